"""Identity documents and file values: the GB 11643 check digit, birth date and sex in the number, contact forms,
dates (text and workbook cells), full-width folding, formula-looking text."""
from __future__ import annotations

from datetime import date, datetime

import pytest

from portal.rules import identity

# 11010519491231002X is the standard's own example; the others are built from it.
VALID = "11010519491231002X"


@pytest.mark.parametrize("number, birth, sex, problem", [
    (VALID, date(1949, 12, 31), "F", None),                         # valid (17th digit 2: a woman)
    (VALID.lower(), date(1949, 12, 31), "F", None),                 # lower-case x is read as X
    ("110105194912310021", date(1949, 12, 31), "F", "id_check_digit"),  # wrong check digit
    ("110105194912310029", None, None, "id_check_digit"),
    (VALID, date(1949, 12, 30), "F", "id_birth_date_mismatch"),     # birth date disagrees
    (VALID, date(1949, 12, 31), "M", "id_sex_mismatch"),            # sex disagrees
    ("110105194913310021", None, None, "id_number_form"),           # month 13: no birth date in it
    ("11010519491231002", None, None, "id_number_form"),            # 17 characters
    ("1101051949123100ZX", None, None, "id_number_form"),
    ("440304196803031240", date(1968, 3, 3), "F", None),
    ("440304196803031259", date(1968, 3, 3), "M", None),
])
def test_resident_id_check_digit_table(number, birth, sex, problem):
    assert identity.resident_id_problem(number, birth, sex) == problem


def test_check_character_and_sex_of_the_number():
    assert identity.check_character("11010519491231002") == "X"
    assert identity.sex_of_resident_id("440304196803031259") == "M"
    assert identity.sex_of_resident_id(VALID) == "F"


@pytest.mark.parametrize("id_type, number, ok", [
    ("passport", "E12345678", True), ("passport", "E1", False), ("hk_macau_permit", "H12345678", True),
    ("hk_macau_permit", "X12345678", False), ("taiwan_permit", "12345678", True), ("taiwan_permit", "1234", False),
    ("foreign_permanent", "USA110012345678", True), ("foreign_permanent", "USA1", False), ("unknown", "E12345678", False),
])
def test_other_documents_are_checked_for_form(id_type, number, ok):
    assert (identity.id_number_problem(id_type, number) is None) is ok


@pytest.mark.parametrize("text, ok", [
    ("13800138000", True), ("+86 138-0013-8000", True), ("8613800138000", True), ("23800138000", False),
    ("1380013800", False), ("010-12345678", False)])
def test_mainland_mobile_numbers(text, ok):
    assert identity.is_mobile(text) is ok


@pytest.mark.parametrize("text, ok", [("li.fang@example.com", True), ("a@b.cn", True), ("li fang@example.com", False),
                                      ("li@", False), ("@example.com", False), ("li@example", False)])
def test_email_addresses_by_form(text, ok):
    assert identity.is_email(text) is ok


@pytest.mark.parametrize("value, expected", [
    ("2024-02-29", (date(2024, 2, 29), None)), ("２０２４－０２－２９", (date(2024, 2, 29), None)),
    (" 2024-03-01 ", (date(2024, 3, 1), None)), ("2023-02-29", (None, "invalid_date")),
    ("2024/03/01", (None, "invalid_date")), ("", (None, None)), (None, (None, None)),
    (datetime(2024, 3, 1), (date(2024, 3, 1), None)), (date(2024, 3, 1), (date(2024, 3, 1), None)),
    (datetime(2024, 3, 1, 9, 30), (None, "invalid_date")),
    (45352, (date(2024, 3, 1), None)), (45352.0, (date(2024, 3, 1), None)), (45352.5, (None, "invalid_date")),
    (True, (None, "invalid_date")),
])
def test_dates_as_text_and_as_workbook_cells(value, expected):
    assert identity.parse_date(value) == expected


def test_full_width_digits_letters_and_spaces_are_folded_and_trimmed():
    assert identity.normalise("\u3000ＥＡ１２３４\u3000") == "EA1234"
    assert identity.normalise(" 王 建国 ") == "王 建国"
    assert identity.normalise(None) == ""


def test_yes_no_sex_and_codes():
    assert identity.parse_yes_no("是") is True and identity.parse_yes_no("No") is False
    assert identity.parse_yes_no("") is False and identity.parse_yes_no("maybe") is None
    assert identity.parse_sex("男") == "M" and identity.parse_sex("f") == "F"
    assert identity.parse_sex("女", words=False) is None
    assert identity.is_code("E10001") and not identity.is_code("E 1") and not identity.is_code("=E1")


@pytest.mark.parametrize("text, formula", [("=SUM(A1:A9)", True), ("+86", True), ("-1", True), ("@x", True),
                                           ("王建国", False), ("a=b", False)])
def test_formula_looking_text(text, formula):
    assert identity.looks_like_formula(text) is formula


def test_compatibility_ideographs_in_names_are_kept():
    # NFKC would turn 﨑 (U+FA11) into 崎; a person's name is kept as written, only full-width ASCII is folded.
    assert identity.normalise("山﨑") == "山﨑"
