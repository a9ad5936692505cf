"""drgdip: CHS-DRG 2.0 grouping (分组) and DRG payment (付费) of whole tables.

A table is anything that speaks the Arrow C data interface (``__arrow_c_stream__``): a
pyarrow ``Table`` or ``RecordBatch``, a polars ``DataFrame``, a pandas ``DataFrame`` (pandas
2.2 or later, or converted with ``pyarrow.Table.from_pandas``). The rows never pass through
Python: the engine reads the columns, validates, groups and pays each row on all cores and
returns pyarrow tables::

    import drgdip, pyarrow.csv as pv
    grouper = drgdip.Grouper("../shared", scheme="chs-drg-2.0")
    results, problems = grouper.group(pv.read_csv("cases.csv"))

``results`` has one row per input row, in order, with the columns of ``drgdip group``;
``problems`` has the rows of the CLI's errors file (``line,case_id,field,value,message``).
With ``strict=True`` the first invalid row raises :class:`RowError` instead.
"""

from __future__ import annotations

from typing import Any, Tuple

import pyarrow as pa

from . import _drgdip
from ._drgdip import DataError, DrgdipError, InputError, RowError

__all__ = [
    "Grouper",
    "Payer",
    "DrgdipError",
    "DataError",
    "InputError",
    "RowError",
    "to_arrow",
    "__version__",
]

__version__: str = _drgdip.version()


def to_arrow(table: Any) -> Any:
    """The table as something the engine reads through the Arrow C stream interface.

    pyarrow tables and record batches, polars and recent pandas data frames pass as they
    are; an older pandas ``DataFrame`` is converted with ``pyarrow.Table.from_pandas``
    (columns, not rows: no Python loop over the rows).
    """
    if hasattr(table, "__arrow_c_stream__"):
        return table
    if isinstance(table, pa.RecordBatch):
        return pa.Table.from_batches([table])
    try:
        import pandas as pd  # optional
    except ImportError:  # pragma: no cover - pandas not installed
        pd = None
    if pd is not None and isinstance(table, pd.DataFrame):
        return pa.Table.from_pandas(table, preserve_index=False)
    raise TypeError(
        f"expected a pyarrow Table or RecordBatch, a polars or pandas DataFrame, got {type(table).__name__}"
    )


class Grouper:
    """Groups discharges with one scheme of the shared data directory (分组器)."""

    def __init__(self, shared: str, scheme: str = "chs-drg-2.0") -> None:
        self._inner = _drgdip.Grouper(str(shared), scheme)

    @property
    def scheme(self) -> str:
        """The scheme's name and version, e.g. ``chs-drg-2.0 2.0``."""
        return self._inner.scheme

    def group(
        self,
        table: Any,
        *,
        trace: bool = False,
        lang: str = "zh",
        problems_lang: str = "en",
        strict: bool = False,
    ) -> Tuple[pa.Table, pa.Table]:
        """Groups every row: ``(results, problems)``.

        ``trace`` adds the explanation of each result (in ``lang``, ``zh`` or ``en``);
        ``problems_lang`` is the language of the ``problems`` column and table.
        """
        return self._inner.group(
            to_arrow(table), trace=trace, lang=lang, problems_lang=problems_lang, strict=strict
        )


class Payer:
    """Pays discharges under a region's parameters (DRG), as ``drgdip pay``."""

    def __init__(
        self,
        shared: str,
        params: str,
        hospitals: str,
        *,
        weights: "str | None" = None,
        history: "str | None" = None,
    ) -> None:
        self._inner = _drgdip.Payer(
            str(shared),
            str(params),
            str(hospitals),
            weights=None if weights is None else str(weights),
            history=None if history is None else str(history),
        )

    @property
    def scheme(self) -> str:
        """The scheme that groups and pays."""
        return self._inner.scheme

    @property
    def warnings(self) -> list:
        """Warnings about the weights and the parameters (nothing refused)."""
        return self._inner.warnings

    def pay(
        self, table: Any, *, trace: bool = False, lang: str = "en", strict: bool = False
    ) -> Tuple[pa.Table, pa.Table]:
        """Pays every row: ``(results, problems)``; ``trace`` adds the ``rules`` column."""
        return self._inner.pay(to_arrow(table), trace=trace, lang=lang, strict=strict)
