"""Credit-report screening rules (SPEC Part D): every clause, its edges, validation and generated input."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portal.rules.credit import (
    CLASSES,
    CODES,
    KINDS,
    STATUSES,
    Account,
    AccountError,
    Screening,
    is_worse,
    overridden,
    parse_accounts,
    screen,
    validate_account,
    worse,
)


def hist(recent: str = "", fill: str = "N") -> str:
    """A 24-month string ending (most recent months) with ``recent``, earlier months ``fill``."""
    return fill * (24 - len(recent)) + recent


def card(recent: str = "", status: str = "normal", current_overdue: int = 0) -> Account:
    return Account("card", status, current_overdue, hist(recent))


def loan(recent: str = "", status: str = "normal", current_overdue: int = 0) -> Account:
    return Account("loan", status, current_overdue, hist(recent))


def codes(result: Screening) -> list[str]:
    return [clause.code for clause in result.reasons]


# (id, accounts, expected class, clause codes that must be among the reasons)
CASES: list[tuple[str, list[Account], str, list[str]]] = [
    # --- empty and clean ---
    ("no accounts", [], "normal", ["normal.no_accounts"]),
    (
        "one clean card",
        [card()],
        "normal",
        ["normal.open_status", "normal.current_overdue", "normal.no_overdue_months"],
    ),
    ("clean card and loan", [card(), loan()], "normal", ["normal.no_overdue_months"]),
    ("neutral codes C / * # only", [card("C/*#"), loan("C/*#")], "normal", ["normal.no_overdue_months"]),
    # --- barred: status ---
    ("frozen card", [card(status="frozen")], "barred", ["barred.abnormal_status"]),
    ("stopped loan", [loan(status="stopped")], "barred", ["barred.abnormal_status"]),
    ("bad debt card", [card(status="bad_debt")], "barred", ["barred.abnormal_status"]),
    (
        "bad debt next to clean accounts",
        [card(), loan(), loan(status="bad_debt")],
        "barred",
        ["barred.abnormal_status"],
    ),
    # --- barred: codes per kind ---
    ("G on a card", [card("G")], "barred", ["barred.card_closed_unpaid"]),
    (
        "lowercase g on a card after parsing",
        parse_accounts([{"kind": "card", "status": "closed", "current_overdue": 0, "history": hist("g")}]),
        "barred",
        ["barred.card_closed_unpaid"],
    ),
    ("G on a loan", [loan("G")], "barred", ["barred.loan_closed_unpaid"]),
    ("Z on a loan", [loan("Z")], "barred", ["barred.loan_settled_by_assets"]),
    ("D on a loan", [loan("D")], "barred", ["barred.loan_paid_by_guarantor"]),
    ("Z on a card is not barred", [card("Z")], "normal", ["normal.no_overdue_months"]),
    ("D on a card is not barred", [card("D")], "normal", ["normal.no_overdue_months"]),
    ("G on a closed card still bars", [card("G", status="closed")], "barred", ["barred.card_closed_unpaid"]),
    ("Z on a settled loan still bars", [loan("Z", status="settled")], "barred", ["barred.loan_settled_by_assets"]),
    # --- barred: level >= 4 ---
    ("level 4 on a card", [card("4")], "barred", ["barred.card_level"]),
    ("level 7 on a card", [card("7")], "barred", ["barred.card_level"]),
    ("level 4 on a loan", [loan("4")], "barred", ["barred.loan_level"]),
    ("level 4 on a closed loan", [loan("4", status="settled")], "barred", ["barred.loan_level"]),
    ("level 4 oldest month counts", [Account("card", "normal", 0, "4" + "N" * 23)], "barred", ["barred.card_level"]),
    # --- overdue months: 4 vs 5 (blemished vs subprime), 8 vs 9 (subprime vs barred) ---
    ("4 overdue months on one card", [card("1111")], "blemished", ["blemished.card_overdue_months"]),
    ("5 overdue months on one card", [card("11111")], "subprime", ["subprime.card_overdue_months"]),
    ("4 overdue months on one loan", [loan("2121")], "blemished", ["blemished.loan_overdue_months"]),
    ("5 overdue months on one loan", [loan("21211")], "subprime", ["subprime.loan_overdue_months"]),
    ("8 overdue months on one card", [card("11111111")], "subprime", ["subprime.card_overdue_months"]),
    ("9 overdue months on one card", [card("111111111")], "barred", ["barred.card_overdue_months"]),
    ("8 overdue months on one loan", [loan("12121212")], "subprime", ["subprime.loan_overdue_months"]),
    ("9 overdue months on one loan", [loan("121212121")], "barred", ["barred.loan_overdue_months"]),
    # --- totals across several accounts of one kind ---
    ("2 + 2 overdue months over two cards", [card("11"), card("22")], "blemished", ["blemished.card_overdue_months"]),
    ("2 + 3 overdue months over two cards", [card("11"), card("122")], "subprime", ["subprime.card_overdue_months"]),
    ("4 + 4 over two cards", [card("1111"), card("2222")], "subprime", ["subprime.card_overdue_months"]),
    ("4 + 5 over two cards", [card("1111"), card("22222")], "barred", ["barred.card_overdue_months"]),
    ("3 + 3 + 3 over three loans", [loan("111"), loan("111"), loan("111")], "barred", ["barred.loan_overdue_months"]),
    (
        "closed card's months count in the total",
        [card("11111", status="closed"), card("1111")],
        "barred",
        ["barred.card_overdue_months"],
    ),
    # --- totals are per kind, never summed across kinds ---
    (
        "4 on cards + 4 on loans",
        [card("1111"), loan("2222")],
        "blemished",
        ["blemished.card_overdue_months", "blemished.loan_overdue_months"],
    ),
    ("5 on cards + 4 on loans", [card("11111"), loan("1111")], "subprime", ["subprime.card_overdue_months"]),
    ("4 on cards + 5 on loans", [card("1111"), loan("11111")], "subprime", ["subprime.loan_overdue_months"]),
    (
        "8 on cards + 8 on loans",
        [card("11111111"), loan("11111111")],
        "subprime",
        ["subprime.card_overdue_months", "subprime.loan_overdue_months"],
    ),
    # --- level 3: 2 vs 3 months per kind ---
    ("one level-3 month on a card", [card("3")], "subprime", ["subprime.worst_level"]),
    ("two level-3 months on a card", [card("33")], "subprime", ["subprime.worst_level"]),
    ("three level-3 months on a card", [card("333")], "barred", ["barred.card_level3_months"]),
    ("two level-3 months over two cards", [card("3"), card("3")], "subprime", ["subprime.worst_level"]),
    (
        "three level-3 months over three cards",
        [card("3"), card("3"), card("13")],
        "barred",
        ["barred.card_level3_months"],
    ),
    ("three level-3 months over two loans", [loan("33"), loan("3")], "barred", ["barred.loan_level3_months"]),
    ("two on cards + two on loans at level 3", [card("33"), loan("33")], "subprime", ["subprime.worst_level"]),
    (
        "level 3 on a settled loan still counts",
        [loan("33", status="settled"), loan("3")],
        "barred",
        ["barred.loan_level3_months"],
    ),
    # --- worst level 2 vs 3 ---
    ("worst level 2", [card("2"), loan("2")], "blemished", ["blemished.worst_level"]),
    ("worst level 3 on a loan", [card("2"), loan("3")], "subprime", ["subprime.worst_level"]),
    # --- open versus history-only accounts ---
    ("closed card does not block normal", [card(status="closed"), loan()], "normal", ["normal.open_status"]),
    ("settled loan does not block normal", [loan(status="settled")], "normal", ["normal.open_status"]),
    (
        "closed card with overdue month blocks normal",
        [card("1", status="closed")],
        "blemished",
        ["blemished.card_overdue_months"],
    ),
    (
        "current overdue on an open card blocks normal",
        [card(current_overdue=1)],
        "blemished",
        ["blemished.worst_level"],
    ),
    (
        "current overdue on an open loan blocks normal",
        [card(), loan(current_overdue=2)],
        "blemished",
        ["blemished.open_status"],
    ),
    (
        "current overdue on a closed card does not block normal",
        [card(status="closed", current_overdue=3)],
        "normal",
        ["normal.current_overdue"],
    ),
    # --- every barred clause that fires is listed ---
    (
        "several barred clauses",
        [card("G333", status="frozen"), loan("Z4")],
        "barred",
        [
            "barred.abnormal_status",
            "barred.card_closed_unpaid",
            "barred.card_level3_months",
            "barred.loan_settled_by_assets",
            "barred.loan_level",
        ],
    ),
]


@pytest.mark.parametrize(("accounts", "expected", "expected_codes"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_screen(accounts: list[Account], expected: str, expected_codes: list[str]) -> None:
    result = screen(accounts)
    assert result.credit_class == expected
    assert set(expected_codes) <= set(codes(result)), codes(result)
    assert all(code.split(".")[0] == expected for code in codes(result))


def test_barred_lists_every_clause_with_figures() -> None:
    result = screen([card("G"), card("4", status="frozen"), loan("D")])
    assert codes(result) == [
        "barred.card_closed_unpaid",
        "barred.abnormal_status",
        "barred.card_level",
        "barred.loan_paid_by_guarantor",
    ]
    status = result.reasons[1]
    assert status.message == "card #2: status frozen"
    assert (status.observed, status.account_index) == ("frozen", 1)
    assert result.reasons[0].message == "card #1: repayment string has G (closed with balance unpaid) at position 24"
    assert result.reasons[2].observed == "4"


def test_barred_total_clause_names_the_figure() -> None:
    result = screen([card("11111"), card("1111")])
    (clause,) = result.reasons
    assert clause.code == "barred.card_overdue_months"
    assert (clause.observed, clause.required, clause.account_index) == ("9", "at most 8", None)
    assert "9 overdue months" in clause.message


def test_subprime_lists_the_failed_conditions_only() -> None:
    result = screen([card("3"), loan("11111")])
    assert result.credit_class == "subprime"
    assert codes(result) == ["subprime.worst_level", "subprime.loan_overdue_months"]
    assert result.reasons[0].account_index == 0
    assert result.reasons[0].observed == "3"
    assert result.reasons[1].observed == "5"


def test_blemished_lists_the_conditions_that_held() -> None:
    result = screen([card("12"), loan("1")])
    assert codes(result) == [
        "blemished.open_status",
        "blemished.worst_level",
        "blemished.card_overdue_months",
        "blemished.loan_overdue_months",
    ]
    assert [clause.observed for clause in result.reasons[1:]] == ["2", "2", "1"]


def test_screen_validates_and_normalises_accounts_built_directly() -> None:
    assert screen([Account("loan", "normal", 0, hist("z"))]).credit_class == "barred"
    with pytest.raises(AccountError) as caught:
        screen([card(), Account("card", "normal", 0, "N" * 23)])
    assert caught.value.account_index == 1


# --- class order and manual override ---


def test_class_order_worst_first() -> None:
    assert CLASSES == ("barred", "subprime", "blemished", "normal")
    assert is_worse("barred", "subprime") and is_worse("subprime", "blemished") and is_worse("blemished", "normal")
    assert not is_worse("normal", "normal")
    assert not is_worse("normal", "barred")
    assert worse("normal", "subprime") == "subprime"
    assert worse("barred", "blemished") == "barred"
    with pytest.raises(ValueError, match="unknown credit class"):
        is_worse("excellent", "normal")


@pytest.mark.parametrize(
    ("screened", "new_class", "reason", "ok"),
    [
        ("normal", "blemished", "court judgement not on the report", True),
        ("normal", "barred", "fraud alert", True),
        ("subprime", "barred", "fraud alert", True),
        ("normal", "normal", "same class", False),
        ("subprime", "blemished", "better class", False),
        ("barred", "normal", "better class", False),
        ("normal", "barred", "", False),
        ("normal", "barred", "   ", False),
        ("normal", "worst", "unknown class", False),
    ],
    ids=[
        "one worse",
        "to barred",
        "subprime to barred",
        "same",
        "better",
        "barred to normal",
        "no reason",
        "blank reason",
        "unknown class",
    ],
)
def test_overridden(screened: str, new_class: str, reason: str, ok: bool) -> None:
    screening = Screening(screened, ())
    if ok:
        assert overridden(screening, new_class, reason) == new_class
    else:
        with pytest.raises(ValueError):
            overridden(screening, new_class, reason)


# --- validation ---


def raw(**changes: Any) -> dict[str, Any]:
    record: dict[str, Any] = {"kind": "card", "status": "normal", "current_overdue": 0, "history": "N" * 24}
    record.update(changes)
    return record


def test_parse_accounts_normalises_lowercase_codes() -> None:
    (account,) = parse_accounts([raw(history="n" * 20 + "gzdc")])
    assert account == Account("card", "normal", 0, "N" * 20 + "GZDC")


# (id, raw record, field, position, message fragment)
BAD: list[tuple[str, Any, str | None, int | None, str]] = [
    ("history too short", raw(history="N" * 23), "history", None, "24 characters"),
    ("history too long", raw(history="N" * 25), "history", None, "got 25"),
    ("history empty", raw(history=""), "history", None, "got 0"),
    ("bad code at position 1", raw(history="X" + "N" * 23), "history", 1, "position 1"),
    ("bad code at position 24", raw(history="N" * 23 + "8"), "history", 24, "position 24"),
    ("digit 0 is not a code", raw(history="N" * 10 + "0" + "N" * 13), "history", 11, "position 11"),
    ("space is not trimmed", raw(history="N" * 23 + " "), "history", 24, "position 24"),
    ("history not text", raw(history=["N"] * 24), "history", None, "must be text"),
    ("unknown kind", raw(kind="mortgage"), "kind", None, "unknown kind 'mortgage'"),
    ("kind in upper case", raw(kind="CARD"), "kind", None, "unknown kind"),
    ("kind not text", raw(kind=1), "kind", None, "unknown kind"),
    ("unknown status", raw(status="overdue"), "status", None, "unknown status 'overdue'"),
    ("status None", raw(status=None), "status", None, "unknown status"),
    ("current overdue negative", raw(current_overdue=-1), "current_overdue", None, "0 or more"),
    ("current overdue bool", raw(current_overdue=True), "current_overdue", None, "bool True"),
    ("current overdue text", raw(current_overdue="0"), "current_overdue", None, "str '0'"),
    ("current overdue float", raw(current_overdue=1.0), "current_overdue", None, "float"),
    ("missing history", {"kind": "card", "status": "normal", "current_overdue": 0}, "history", None, "missing"),
    ("missing everything", {}, "kind", None, "kind, status, current_overdue, history"),
    ("not a record", ["card", "normal", 0, "N" * 24], None, None, "expected a record"),
]


@pytest.mark.parametrize(("record", "field", "position", "fragment"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_validate_account_errors(record: Any, field: str | None, position: int | None, fragment: str) -> None:
    with pytest.raises(AccountError) as caught:
        validate_account(3, record)
    error = caught.value
    assert (error.account_index, error.field, error.position) == (3, field, position)
    assert fragment in str(error)
    assert str(error).startswith("account #4: ")
    assert isinstance(error, ValueError)


def test_parse_accounts_names_the_bad_index() -> None:
    with pytest.raises(AccountError) as caught:
        parse_accounts([raw(), raw(kind="loan"), raw(history="N" * 5 + "?" + "N" * 18)])
    assert (caught.value.account_index, caught.value.field, caught.value.position) == (2, "history", 6)
    assert str(caught.value) == "account #3: repayment string position 6 has '?', expected one of N 1-7 G Z D C / * #"


def test_parse_accounts_ignores_extra_fields() -> None:
    assert parse_accounts([raw(bank="ICBC")]) == [Account("card", "normal", 0, "N" * 24)]


# --- generated input ---

ACCEPTED = (*CODES, "n", "g", "z", "d", "c")  # lower-case letters are normalised
valid_codes = st.sampled_from(ACCEPTED)
valid_history = st.text(alphabet=valid_codes, min_size=24, max_size=24)
valid_raw = st.fixed_dictionaries(
    {
        "kind": st.sampled_from(KINDS),
        "status": st.sampled_from(STATUSES),
        "current_overdue": st.integers(min_value=0, max_value=120),
        "history": valid_history,
    }
)


@given(st.lists(valid_raw, max_size=8))
def test_screen_is_total_on_valid_accounts(records: list[dict[str, Any]]) -> None:
    accounts = parse_accounts(records)
    result = screen(accounts)
    assert result.credit_class in CLASSES
    assert result.reasons
    assert all(code.split(".")[0] == result.credit_class for code in codes(result))


@given(st.lists(valid_raw, max_size=6))
def test_screen_class_is_monotone_in_added_accounts(records: list[dict[str, Any]]) -> None:
    # Adding an account never makes the class better (all conditions are "every"/totals/any).
    accounts = parse_accounts(records)
    before = screen(accounts).credit_class
    for extra in ([card()], [loan("1")], [card("3")]):
        after = screen(accounts + extra).credit_class
        assert worse(before, after) == after


def _is_valid_history(text: str) -> bool:
    return len(text) == 24 and all(char in ACCEPTED for char in text)


@given(st.text(max_size=40).filter(lambda text: not _is_valid_history(text)))
def test_invalid_history_always_raises_account_error(text: str) -> None:
    with pytest.raises(AccountError) as caught:
        validate_account(0, raw(history=text))
    assert caught.value.field == "history"
    if len(text) == 24:
        assert caught.value.position is not None and 1 <= caught.value.position <= 24


@given(
    st.text(alphabet=valid_codes, min_size=23, max_size=23),
    st.integers(min_value=0, max_value=23),
    st.characters().filter(lambda char: char not in ACCEPTED),
)
def test_one_bad_character_is_found_at_its_position(base: str, index: int, bad: str) -> None:
    text = base[:index] + bad + base[index:]
    with pytest.raises(AccountError) as caught:
        validate_account(0, raw(history=text))
    assert caught.value.position == index + 1


anything = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=30), st.lists(st.integers(), max_size=3)
)


@given(
    st.lists(
        st.one_of(
            st.dictionaries(st.sampled_from(["kind", "status", "current_overdue", "history", "other"]), anything),
            anything,
        ),
        min_size=1,
        max_size=4,
    )
)
def test_arbitrary_records_raise_only_account_error(records: list[Any]) -> None:
    try:
        accounts = parse_accounts(records)
    except AccountError as error:
        assert 0 <= error.account_index < len(records)
    else:
        assert screen(accounts).credit_class in CLASSES
