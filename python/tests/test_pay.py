"""drgdip.Payer: the package pays as `drgdip pay`, with exact decimals."""

import decimal
import subprocess

import pyarrow as pa
import pytest

import drgdip
from conftest import read_text_csv


@pytest.fixture(scope="module")
def weights(shared, data, cli, tmp_path_factory):
    out = tmp_path_factory.mktemp("w") / "weights.csv"
    subprocess.run(
        [str(cli), "weights", "--shared", str(shared), "--history", str(data / "history-2024" / "cases.csv"),
         "--params", str(shared / "params" / "region-350100-2025.toml"), "--output", str(out), "-q"],
        check=True,
    )
    return out


@pytest.fixture(scope="module")
def payer(shared, data, weights):
    return drgdip.Payer(
        str(shared), str(shared / "params" / "region-350100-2025.toml"), str(data / "hospitals.csv"),
        weights=str(weights),
    )


def test_the_package_and_the_cli_pay_the_dev_cases_alike(shared, data, cli, weights, payer, dev_cases, tmp_path):
    out = tmp_path / "pay.csv"
    subprocess.run(
        [str(cli), "pay", "--shared", str(shared), "--params", str(shared / "params" / "region-350100-2025.toml"),
         "--hospitals", str(data / "hospitals.csv"), "--weights", str(weights),
         "--input", str(data / "dev" / "cases.csv"), "--output", str(out), "--trace"],
        check=True, capture_output=True,
    )
    expected = read_text_csv(out)
    results, problems = payer.pay(dev_cases, trace=True)
    assert payer.scheme.startswith("fujian-2024")
    assert results.column_names == expected.column_names
    assert problems.num_rows == 0
    for name in expected.column_names:
        got = results.column(name)
        if pa.types.is_decimal(got.type):
            got = [None if v is None else str(v) for v in got.to_pylist()]
            want = [v if v != "" else None for v in expected.column(name).to_pylist()]
        else:
            got, want = got.to_pylist(), expected.column(name).to_pylist()
        assert got == want, name
    total = sum(results.column("payment").to_pylist(), decimal.Decimal(0))
    assert total == decimal.Decimal("707442442.55")


def test_a_row_that_cannot_be_paid_is_invalid_with_its_problem(payer, dev_cases):
    rows = dev_cases.slice(0, 5).to_pylist()
    rows[2]["total_cost"] = "1e3"
    results, problems = payer.pay(pa.Table.from_pylist(rows))
    assert results.column("status").to_pylist()[2] == "invalid"
    assert results.column("payment").to_pylist()[2] is None
    assert [(p["line"], p["field"]) for p in problems.to_pylist()] == [(4, "total_cost")]
    with pytest.raises(drgdip.RowError) as info:
        payer.pay(pa.Table.from_pylist(rows), strict=True)
    assert (info.value.row, info.value.field) == (2, "total_cost")


def test_a_table_without_the_cost_columns_cannot_be_paid(payer, dev_cases):
    with pytest.raises(drgdip.InputError, match="total_cost"):
        payer.pay(dev_cases.drop_columns(["total_cost"]))


def test_a_bad_parameter_file_is_a_data_error(shared, data, tmp_path):
    bad = tmp_path / "p.toml"
    bad.write_text("[region]\ncode = 1\n")
    with pytest.raises(drgdip.DataError, match="p.toml"):
        drgdip.Payer(str(shared), str(bad), str(data / "hospitals.csv"))


def test_typed_money_and_date_columns_pay_as_their_text(payer, dev_cases):
    """A reader's types (float64 costs, a date32 discharge date) pay as the text does."""
    head = dev_cases.slice(0, 2000)
    typed = head
    for name, kind in [("total_cost", pa.float64()), ("fund_paid", pa.float64()), ("discharge_date", pa.date32())]:
        typed = typed.set_column(typed.column_names.index(name), name, head.column(name).cast(kind))
    assert payer.pay(typed)[0].equals(payer.pay(head)[0])
