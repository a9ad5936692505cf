//! In-memory grouping speed: the 20,000 dev cases, already parsed and looked up, grouped with
//! the national scheme and the Fujian layer, on one core, with and without the trace.
//!
//! `cargo bench -p drgdip-drg --bench group` (needs the shared data: `DRGDIP_SHARED`, default
//! `../shared` beside the repository).

use std::path::PathBuf;

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use drgdip_drg::{group, Case, Trace};
use drgdip_io::read_valid_records;
use drgdip_scheme::{DirFiles, Registry};

fn shared() -> PathBuf {
    std::env::var_os("DRGDIP_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"))
}

fn bench(c: &mut Criterion) {
    let shared = shared();
    let files = DirFiles::new(&shared).expect("shared data (set DRGDIP_SHARED)");
    let mut reg = Registry::new(&files).unwrap();
    let national = reg.get("chs-drg-2.0").unwrap();
    let fujian = reg.get("fujian-2024").unwrap();
    let input =
        std::fs::read(shared.join("testdata/chs-drg-2.0/dev/cases.csv")).expect("dev cases");
    let records = read_valid_records(&input, &national.catalog).unwrap();
    let cases: Vec<Case> = records.iter().map(|r| r.case()).collect();
    let mut g = c.benchmark_group("group");
    g.throughput(Throughput::Elements(cases.len() as u64));
    for (name, s) in [("chs-drg-2.0", &national), ("fujian-2024", &fujian)] {
        g.bench_function(format!("{name}/20k-dev-cases"), |b| {
            let mut t = Trace::disabled();
            b.iter(|| {
                for k in &cases {
                    black_box(group(s, k, &mut t));
                }
            })
        });
    }
    g.bench_function("chs-drg-2.0/20k-dev-cases/traced", |b| {
        let mut t = Trace::enabled();
        b.iter(|| {
            for k in &cases {
                t.clear();
                black_box(group(&national, k, &mut t));
            }
        })
    });
    g.finish();
    c.bench_function("load/chs-drg-2.0+fujian-2024", |b| {
        b.iter(|| {
            let mut reg = Registry::new(&files).unwrap();
            black_box(reg.get("fujian-2024").unwrap());
        })
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = bench
}
criterion_main!(benches);
