"""Grouping a Spark DataFrame with drgdip, on every executor, through Arrow (``mapInArrow``).

::

    from pyspark.sql import SparkSession
    from drgdip.spark import group_dataframe
    spark = SparkSession.builder.master("local[2]").getOrCreate()
    cases = spark.read.parquet("cases/")            # the case columns of drgdip (all text)
    results = group_dataframe(cases, shared="/data/drgdip-shared", scheme="chs-drg-2.0")
    results.write.parquet("results/")

Each executor's Python worker loads the scheme once (the shared directory must be readable
at the same path on every executor: a shared file system, or files shipped with the job) and
groups each Arrow batch Spark hands it; no row passes through Python. The result has the
columns of ``drgdip group`` (``trace`` too with ``trace=True``), one row per input row.
"""

from __future__ import annotations

from typing import Dict, Iterator, Tuple

import pyarrow as pa

from . import Grouper

#: The result columns of ``drgdip group``, all strings.
RESULT_COLUMNS = ["case_id", "status", "mdc", "adrg", "drg", "mcc", "cc", "scheme", "repairs", "problems"]

_GROUPERS: Dict[Tuple[str, str], Grouper] = {}


def _grouper(shared: str, scheme: str) -> Grouper:
    key = (shared, scheme)
    if key not in _GROUPERS:
        _GROUPERS[key] = Grouper(shared, scheme)
    return _GROUPERS[key]


def result_schema(trace: bool = False) -> str:
    """The Spark DDL schema of the results."""
    names = RESULT_COLUMNS + (["trace"] if trace else [])
    return ", ".join(f"{n} string" for n in names)


def group_batches(
    batches: Iterator[pa.RecordBatch], shared: str, scheme: str, trace: bool = False, lang: str = "zh"
) -> Iterator[pa.RecordBatch]:
    """Groups each batch (the function ``mapInArrow`` runs on an executor)."""
    grouper = _grouper(shared, scheme)
    for batch in batches:
        if batch.num_rows == 0:
            continue
        results, _ = grouper.group(pa.Table.from_batches([batch]), trace=trace, lang=lang)
        yield from results.to_batches()


def group_dataframe(df, shared: str, scheme: str = "chs-drg-2.0", trace: bool = False, lang: str = "zh"):
    """The Spark DataFrame of the results of grouping every row of ``df``."""
    shared = str(shared)

    def run(batches):
        return group_batches(batches, shared, scheme, trace, lang)

    return df.mapInArrow(run, result_schema(trace))
