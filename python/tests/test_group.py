"""drgdip.Grouper: the package groups as the CLI does, from pyarrow, pandas and polars."""

import subprocess

import pyarrow as pa
import pytest

import drgdip
from conftest import read_text_csv


def cli_group(cli, shared, cases, out, *extra):
    subprocess.run(
        [str(cli), "group", "--shared", str(shared), "--input", str(cases), "--output", str(out), "-q", *extra],
        check=True,
    )
    return read_text_csv(out)


@pytest.mark.parametrize("scheme", ["chs-drg-2.0", "fujian-2024"])
def test_the_package_and_the_cli_group_the_dev_cases_alike(shared, data, cli, dev_cases, tmp_path, scheme):
    grouper = drgdip.Grouper(str(shared), scheme=scheme)
    assert grouper.scheme.startswith(scheme)
    results, problems = grouper.group(dev_cases)
    expected = cli_group(cli, shared, data / "dev" / "cases.csv", tmp_path / "g.csv", "--scheme", scheme)
    assert results.num_rows == dev_cases.num_rows == 20000
    assert results.column_names == expected.column_names
    for name in expected.column_names:
        assert results.column(name).to_pylist() == expected.column(name).to_pylist(), name
    assert problems.num_rows == 0


def test_the_trace_is_the_cli_s(shared, data, cli, dev_cases, tmp_path):
    head = dev_cases.slice(0, 300)
    results, _ = drgdip.Grouper(str(shared)).group(head, trace=True, lang="en")
    path = tmp_path / "head.csv"
    import pyarrow.csv as pv

    pv.write_csv(head, path)
    expected = cli_group(cli, shared, path, tmp_path / "t.csv", "--trace", "--lang", "en")
    assert results.column("trace").to_pylist() == expected.column("trace").to_pylist()
    assert "principal diagnosis" in results.column("trace")[0].as_py()


def test_pandas_and_polars_frames_give_the_same_results(shared, dev_cases):
    pandas = pytest.importorskip("pandas")
    polars = pytest.importorskip("polars")
    grouper = drgdip.Grouper(str(shared))
    head = dev_cases.slice(0, 2000)
    want, _ = grouper.group(head)
    from_pandas, _ = grouper.group(head.to_pandas())
    from_polars, _ = grouper.group(polars.from_arrow(head))
    assert isinstance(head.to_pandas(), pandas.DataFrame)
    assert from_pandas.equals(want)
    assert from_polars.equals(want)


def test_typed_columns_are_read_as_their_text(shared, dev_cases):
    """Numbers typed by a reader (age as int64) group as their text does."""
    grouper = drgdip.Grouper(str(shared))
    head = dev_cases.slice(0, 500)
    typed = head.set_column(head.column_names.index("age"), "age", head.column("age").cast(pa.int64()))
    assert grouper.group(typed)[0].equals(grouper.group(head)[0])


def test_an_invalid_row_is_a_result_and_a_problem_never_a_lost_row(shared, dev_cases):
    head = dev_cases.slice(0, 10).to_pylist()
    head[3]["diagnoses"] = "NOT-A-CODE"
    head[5]["case_id"] = head[4]["case_id"]  # a repeated case id
    table = pa.Table.from_pylist(head)
    results, problems = drgdip.Grouper(str(shared)).group(table)
    assert results.num_rows == 10
    status = results.column("status").to_pylist()
    assert status[3] == "invalid" and status[5] == "invalid"
    assert [s for i, s in enumerate(status) if i not in (3, 5)] == ["grouped"] * 8 or "invalid" not in [
        s for i, s in enumerate(status) if i not in (3, 5)
    ]
    rows = problems.to_pylist()
    assert {(p["line"], p["field"]) for p in rows} >= {(5, "diagnoses"), (7, "case_id")}
    assert "NOT-A-CODE" in results.column("problems")[3].as_py()


def test_strict_raises_the_first_invalid_row_with_its_row_and_field(shared, dev_cases):
    head = dev_cases.slice(0, 10).to_pylist()
    head[6]["age"] = "abc"
    with pytest.raises(drgdip.RowError) as info:
        drgdip.Grouper(str(shared)).group(pa.Table.from_pylist(head), strict=True)
    e = info.value
    assert (e.row, e.line, e.field, e.value) == (6, 8, "age", "abc")
    assert e.case_id == head[6]["case_id"]
    assert isinstance(e, drgdip.InputError) and isinstance(e, drgdip.DrgdipError)


def test_a_table_without_a_required_column_is_an_input_error(shared, dev_cases):
    with pytest.raises(drgdip.InputError, match="diagnoses"):
        drgdip.Grouper(str(shared)).group(dev_cases.drop_columns(["diagnoses"]))


def test_a_missing_shared_directory_or_scheme_is_a_data_error(shared, tmp_path):
    with pytest.raises(drgdip.DataError):
        drgdip.Grouper(str(tmp_path / "nowhere"))
    with pytest.raises(drgdip.DataError, match="no-such-scheme"):
        drgdip.Grouper(str(shared), scheme="no-such-scheme")


def test_a_bad_argument_is_a_python_error(shared, dev_cases):
    grouper = drgdip.Grouper(str(shared))
    with pytest.raises(ValueError, match="lang"):
        grouper.group(dev_cases.slice(0, 1), lang="fr")
    with pytest.raises(TypeError):
        grouper.group([1, 2, 3])
