//! Groups the dev cases `N` times with one scheme, for instruction counts under callgrind:
//! `valgrind --tool=callgrind target/release/examples/group_loop fujian-2024 5`.

use std::path::PathBuf;

use drgdip_drg::{group, Trace};
use drgdip_io::read_valid_records;
use drgdip_scheme::{DirFiles, Registry};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let name = args.get(1).map(String::as_str).unwrap_or("chs-drg-2.0");
    let n: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(1);
    let shared = std::env::var_os("DRGDIP_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("../shared"));
    let files = DirFiles::new(&shared).expect("shared data");
    let mut reg = Registry::new(&files).expect("registry");
    let s = reg.get(name).expect("scheme");
    let input = std::fs::read(shared.join("testdata/chs-drg-2.0/dev/cases.csv")).expect("cases");
    let records = read_valid_records(&input, &s.catalog).expect("read");
    let t = std::time::Instant::now();
    let mut grouped = 0;
    for _ in 0..n {
        for r in &records {
            grouped += group(&s, &r.case(), &mut Trace::disabled()).drg.is_some() as usize;
        }
    }
    let secs = t.elapsed().as_secs_f64();
    eprintln!(
        "{name}: {} cases in {secs:.3} s = {:.0} cases/s ({grouped} with a DRG)",
        records.len() * n,
        (records.len() * n) as f64 / secs
    );
}
