//! Pricing speed of `drgdip pay` without the file system: the 20,000 dev cases read,
//! validated, grouped with the region's scheme, paid and written as result rows
//! (`drgdip_engine::pricing::pay_file`, the function the command calls), weights from the
//! 2024 history.
//!
//! `cargo bench -p drgdip --bench pay` (needs the shared data: `DRGDIP_SHARED`, default
//! `../shared` beside the repository). End to end on 1,000,000 rows: `scripts/bench.sh`.

use std::path::PathBuf;

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use drgdip_drg::Lang;
use drgdip_engine::pricing::{pay_file, PayOptions, SpecialCases};
use drgdip_engine::{Region, RegionFiles, WeightsFrom};
use drgdip_io::{BatchOptions, Purpose, ReadOptions};
use drgdip_scheme::{DirFiles, Registry};

fn shared() -> PathBuf {
    std::env::var_os("DRGDIP_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"))
}

fn bench(c: &mut Criterion) {
    let shared = shared();
    let Ok(dir) = DirFiles::new(&shared) else {
        eprintln!(
            "no shared data at {} (set DRGDIP_SHARED): nothing measured",
            shared.display()
        );
        return;
    };
    let mut registry = Registry::new(&dir).unwrap();
    let data = shared.join("testdata/chs-drg-2.0");
    let files = RegionFiles {
        params: shared.join("params/region-350100-2025.toml"),
        hospitals: data.join("hospitals.csv"),
        weights: WeightsFrom::History(data.join("history-2024/cases.csv")),
        point_value: None,
    };
    let batch = |purpose| BatchOptions {
        read: ReadOptions::for_purpose(purpose),
        lang: Lang::En,
        ..BatchOptions::default()
    };
    let region = Region::load(&mut registry, &files, batch(Purpose::Weights)).unwrap();
    let input = std::fs::read(data.join("dev/cases.csv")).unwrap();
    let rows = input.iter().filter(|&&b| b == b'\n').count() as u64 - 1;
    let special = SpecialCases::default();
    let mut out = Vec::new();
    let mut g = c.benchmark_group("pay");
    g.throughput(Throughput::Elements(rows));
    g.bench_function("csv-to-csv/20k-dev-cases", |b| {
        b.iter(|| {
            out.clear();
            let run = pay_file(
                &region,
                &special,
                &input[..],
                &mut out,
                None,
                PayOptions {
                    batch: batch(Purpose::Pay),
                    trace: false,
                },
                &|_| {},
            )
            .unwrap();
            black_box(run.stats.rows)
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10);
    targets = bench
}
criterion_main!(benches);
