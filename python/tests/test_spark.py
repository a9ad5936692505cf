"""The Spark job (drgdip.spark, mapInArrow) in local mode gives the package's results.

Needs pyspark and a Java runtime; without them the test is skipped, unless
DRGDIP_REQUIRE_SPARK is set (CI sets it), when their absence fails it."""

import os
import shutil
import sys

import pyarrow.parquet as pq
import pytest

import drgdip

REQUIRED = bool(os.environ.get("DRGDIP_REQUIRE_SPARK"))


def _spark_or_skip():
    try:
        import pyspark  # noqa: F401
    except ImportError:
        if REQUIRED:
            pytest.fail("pyspark is not installed and DRGDIP_REQUIRE_SPARK is set")
        pytest.skip("pyspark is not installed")
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        if REQUIRED:
            pytest.fail("no Java runtime and DRGDIP_REQUIRE_SPARK is set")
        pytest.skip("no Java runtime")


def test_a_parquet_dataset_grouped_on_spark_equals_the_package(shared, dev_cases, tmp_path):
    _spark_or_skip()
    from pyspark.sql import SparkSession

    from drgdip.spark import group_dataframe

    # Spark's Python workers run `python3` of the PATH unless told: this interpreter has drgdip.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)

    dataset = tmp_path / "cases"
    dataset.mkdir()
    # a dataset of three files, as a data platform holds it
    third = dev_cases.num_rows // 3
    for k, start in enumerate([0, third, 2 * third]):
        length = third if k < 2 else dev_cases.num_rows - start
        pq.write_table(dev_cases.slice(start, length), dataset / f"part-{k}.parquet")
    spark = (
        SparkSession.builder.master("local[2]")
        .appName("drgdip-test")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .getOrCreate()
    )
    try:
        cases = spark.read.parquet(str(dataset))
        results = group_dataframe(cases, shared=str(shared), scheme="chs-drg-2.0")
        out = tmp_path / "results"
        results.write.parquet(str(out))
    finally:
        spark.stop()
    got = pq.read_table(out).to_pylist()
    want, _ = drgdip.Grouper(str(shared)).group(dev_cases)
    assert len(got) == dev_cases.num_rows
    # Spark does not keep the files' order: compare by case id
    by_id = {r["case_id"]: r for r in want.to_pylist()}
    assert len(by_id) == len(got)
    for row in got:
        assert row == by_id[row["case_id"]]
