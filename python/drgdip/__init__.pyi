from typing import Any, List, Optional, Tuple

import pyarrow as pa

__version__: str

class DrgdipError(Exception): ...
class DataError(DrgdipError): ...
class InputError(DrgdipError): ...

class RowError(InputError):
    row: int
    line: int
    case_id: str
    field: str
    value: str
    message: str

def to_arrow(table: Any) -> Any: ...

class Grouper:
    def __init__(self, shared: str, scheme: str = "chs-drg-2.0") -> None: ...
    @property
    def scheme(self) -> str: ...
    def group(
        self,
        table: Any,
        *,
        trace: bool = False,
        lang: str = "zh",
        problems_lang: str = "en",
        strict: bool = False,
    ) -> Tuple[pa.Table, pa.Table]: ...

class Payer:
    def __init__(
        self,
        shared: str,
        params: str,
        hospitals: str,
        *,
        weights: Optional[str] = None,
        history: Optional[str] = None,
    ) -> None: ...
    @property
    def scheme(self) -> str: ...
    @property
    def warnings(self) -> List[str]: ...
    def pay(
        self, table: Any, *, trace: bool = False, lang: str = "en", strict: bool = False
    ) -> Tuple[pa.Table, pa.Table]: ...
