"""Rows per second of drgdip.Grouper.group (and Payer.pay with --pay) on the dev cases
replicated to N rows (unique case ids), in memory: Arrow table in, Arrow table out.

    RAYON_NUM_THREADS=1 python python/bench/bench_group.py --rows 1000000
Needs a release build of the package (maturin develop --release)."""

import argparse
import os
import pathlib
import time

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pv

import drgdip

root = pathlib.Path(__file__).resolve().parents[2]
shared = pathlib.Path(os.environ.get("DRGDIP_SHARED", root.parent / "shared"))
data = shared / "testdata" / "chs-drg-2.0"

ap = argparse.ArgumentParser()
ap.add_argument("--rows", type=int, default=1_000_000)
ap.add_argument("--scheme", default="chs-drg-2.0")
ap.add_argument("--repeat", type=int, default=3)
ap.add_argument("--pay", metavar="WEIGHTS", help="time Payer.pay with this weights file instead")
a = ap.parse_args()

with open(data / "dev" / "cases.csv", encoding="utf-8") as f:
    header = f.readline().strip().split(",")
dev = pv.read_csv(
    data / "dev" / "cases.csv",
    convert_options=pv.ConvertOptions(column_types={c: "string" for c in header}, strings_can_be_null=False),
)
parts = []
for k in range(-(-a.rows // dev.num_rows)):
    ids = pc.binary_join_element_wise(dev.column("case_id"), pa.scalar(f"-{k}"), "")
    parts.append(dev.set_column(dev.column_names.index("case_id"), "case_id", ids))
table = pa.concat_tables(parts).slice(0, a.rows).combine_chunks()

if a.pay:
    payer = drgdip.Payer(str(shared), str(shared / "params" / "region-350100-2025.toml"),
                         str(data / "hospitals.csv"), weights=a.pay)
    run = lambda: payer.pay(table)
else:
    grouper = drgdip.Grouper(str(shared), a.scheme)
    run = lambda: grouper.group(table)
best = None
for _ in range(a.repeat):
    t0 = time.perf_counter()
    results, problems = run()
    dt = time.perf_counter() - t0
    best = dt if best is None else min(best, dt)
    assert results.num_rows == a.rows
threads = os.environ.get("RAYON_NUM_THREADS", str(os.cpu_count()))
print(f"{'pay' if a.pay else 'group'} {a.rows} rows, {threads} thread(s): best {best:.2f} s, {a.rows / best:,.0f} rows/s "
      f"({problems.num_rows} problems; load average {os.getloadavg()[0]:.1f})")
