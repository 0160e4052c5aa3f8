"""CSV/XLSX exports: formula-like text is neutralised, numbers stay numbers."""
from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from portal.exports import csv_bytes, neutralise, xlsx_bytes


@pytest.mark.parametrize("text", ["=1+1", "+86 10", "-2", "@SUM(A1)", "\tx", "\rx"])
def test_formula_triggers_get_an_apostrophe(text):
    assert neutralise(text) == "'" + text


@pytest.mark.parametrize("value", ["王伟", "a=b", "", 5, Decimal("-3.50"), None])
def test_other_values_pass_unchanged(value):
    assert neutralise(value) == value


def test_csv_neutralises_text_but_keeps_negative_amounts():
    body = csv_bytes(["name", "assets"], [["=HYPERLINK(\"x\")", Decimal("-1.50")], ["张三", Decimal("2.00")]])
    assert body.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows == [["name", "assets"], ["'=HYPERLINK(\"x\")", "-1.50"], ["张三", "2.00"]]


def test_xlsx_neutralises_text_and_writes_numbers_and_dates():
    body = xlsx_bytes(["name", "assets", "day"], [["@cmd", Decimal("1234.50"), date(2026, 6, 30)]], title="grid")
    sheet = load_workbook(io.BytesIO(body)).active
    assert sheet.title == "grid"
    assert sheet["A2"].value == "'@cmd"
    assert sheet["B2"].value == pytest.approx(1234.5) and sheet["B2"].data_type == "n"
    assert sheet["C2"].value.date() == date(2026, 6, 30)
