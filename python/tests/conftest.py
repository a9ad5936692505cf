"""Fixtures: the shared data directory (DRGDIP_SHARED or ../shared beside the repository),
the CLI's binary (DRGDIP_BIN or target/debug/drgdip) and the dev cases."""

import os
import pathlib
import subprocess

import pyarrow.csv as pv
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


def _shared() -> pathlib.Path:
    return pathlib.Path(os.environ.get("DRGDIP_SHARED", ROOT.parent / "shared")).resolve()


@pytest.fixture(scope="session")
def shared() -> pathlib.Path:
    path = _shared()
    if not (path / "schemes").is_dir():
        pytest.fail(f"no shared data directory at {path} (set DRGDIP_SHARED)")
    return path


@pytest.fixture(scope="session")
def data(shared):
    return shared / "testdata" / "chs-drg-2.0"


@pytest.fixture(scope="session")
def cli() -> pathlib.Path:
    target = pathlib.Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    path = pathlib.Path(os.environ.get("DRGDIP_BIN", target / "debug" / "drgdip"))
    if not path.exists():
        subprocess.run(["cargo", "build", "-p", "drgdip", "--locked"], cwd=ROOT, check=True)
    return path


def read_text_csv(path) -> "pyarrow.Table":
    """A CSV read with every column as text, as the CLI reads it."""
    with open(path, encoding="utf-8") as f:
        header = f.readline().strip().split(",")
    options = pv.ConvertOptions(column_types={c: "string" for c in header}, strings_can_be_null=False)
    return pv.read_csv(path, convert_options=options)


@pytest.fixture(scope="session")
def dev_cases(data):
    return read_text_csv(data / "dev" / "cases.csv")
