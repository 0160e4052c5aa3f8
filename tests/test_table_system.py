"""Lists: one table system, money and dates through Babel, masked IDs as text, names in pinyin order."""
from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from tests.helpers import Auth

# (name, pinyin): code-point order of the first characters (何 冯 刘 张 章 艾) is not the alphabet's.
PEOPLE = [("何伟", "He Wei"), ("冯军", "Feng Jun"), ("刘洋", "Liu Yang"), ("章伟", "Zhang Wei"),
          ("张伟", "Zhang Wei"), ("艾米", "Ai Mi"), ("欧阳娜", None)]
PINYIN_ORDER = ["艾米", "冯军", "何伟", "刘洋", "张伟", "章伟", "欧阳娜"]


@pytest.fixture
def book(app, make):
    from models import db

    team = make.team()
    manager = make.manager(team, employee_no="RMPY1")
    for name, pinyin in PEOPLE:
        client = make.client(manager, name=name)
        client.name_pinyin = pinyin
    make.user("rm_py", "rm", manager=manager)
    db.session.commit()
    return manager


def page_names(page: str) -> list[str]:
    body = re.search(r"<tbody>(.*?)</tbody>", page, re.DOTALL).group(1)
    return [re.sub(r"<.*", "", cells[1]).strip() for cells in
            (re.findall(r"<td[^>]*>(.*?)</td>", row, re.DOTALL) for row in re.findall(r"<tr>(.*?)</tr>", body, re.DOTALL))]


def test_book_sorts_names_by_pinyin_on_this_database(app, book, backend):
    from models import Client, db
    from portal.clients.queries import book_query

    names = list(db.session.scalars(book_query(book.id, columns=[Client.name])))
    assert names == PINYIN_ORDER, backend
    descending = list(db.session.scalars(book_query(book.id, sort="name", descending=True, columns=[Client.name])))
    assert descending == PINYIN_ORDER[::-1]


def test_book_page_lists_names_in_pinyin_order(app, client, book):
    assert Auth(client).login("rm_py").status_code == 302
    assert page_names(client.get("/book").get_data(as_text=True)) == PINYIN_ORDER
    assert page_names(client.get("/book?sort=name&dir=desc").get_data(as_text=True)) == PINYIN_ORDER[::-1]


def test_book_uses_the_table_system_with_priorities_and_plain_masked_ids(app, client, book):
    assert Auth(client).login("rm_py").status_code == 302
    page = client.get("/book").get_data(as_text=True)
    assert re.search(r'<div class="table-responsive">\s*<table class="table table-portal[^"]*"', page)
    headers = re.findall(r'<th scope="col"( class="prio-3")?>', page)
    # What a manager works from comes first; the three identity columns last, off phones.
    assert [bool(h) for h in headers] == [False] * 9 + [True] * 3
    row = re.search(r"<tbody>\s*<tr>(.*?)</tr>", page, re.DOTALL).group(1)
    assert "<code>" not in page
    assert re.search(r'<span class="masked-id">\d{4}\*+\w{4}</span>', row)


def test_every_list_uses_the_table_system():
    from pathlib import Path

    templates = Path(__file__).resolve().parents[1] / "templates"
    tables = [(p, m.group(0)) for p in templates.rglob("*.html")
              for m in re.finditer(r'<table class="table\b[^"]*"', p.read_text(encoding="utf-8"))]
    assert len(tables) > 40
    assert [str(p) for p, tag in tables if "table-portal" not in tag] == []
    for path in {p for p, _ in tables}:
        text = path.read_text(encoding="utf-8")
        # Every table scrolls inside its own box, never the page.
        assert text.count('<table class="table') == len(re.findall(r'<div class="table-responsive[^"]*">\s*<table', text)), path


@pytest.mark.parametrize("language,amounts", [
    ("en", {Decimal("1234567.89"): "¥1,234,567.89", Decimal("0"): "¥0.00", Decimal("-1500.5"): "-¥1,500.50",
            "88.1": "¥88.10", None: "—"}),
    ("zh_CN", {Decimal("1234567.89"): "1,234,567.89元", Decimal("0"): "0.00元", Decimal("-1500.5"): "-1,500.50元",
               "88.1": "88.10元", None: "—"}),
])
def test_money_filter(app, language, amounts):
    from flask import render_template_string
    from flask_babel import force_locale

    with app.test_request_context("/"), force_locale(language):
        for value, shown in amounts.items():
            assert render_template_string("{{ v|money }}", v=value) == shown


@pytest.mark.parametrize("language", ["en", "zh_CN"])
def test_percent_filter_and_stored_iso_dates(app, language):
    from flask import render_template_string
    from flask_babel import force_locale

    with app.test_request_context("/"), force_locale(language):
        shown = {Decimal("0.875"): "87.5 %", "0.8500": "85.0 %", Decimal("12.3456"): "1,234.6 %", None: "—"}
        for ratio, text in shown.items():
            assert render_template_string("{{ r|percent }}", r=ratio) == text
        assert render_template_string("{{ d|date }}", d="2027-02-22") == "2027-02-22"


@pytest.mark.parametrize("language", ["en", "zh_CN"])
def test_one_date_format_per_language_and_china_time(app, language):
    from flask import render_template_string
    from flask_babel import force_locale

    # 23:30 UTC on 1 March is 07:30 on 2 March in Shanghai.
    late = datetime(2027, 3, 1, 23, 30, tzinfo=UTC)
    with app.test_request_context("/"), force_locale(language):
        assert render_template_string("{{ d|date }}", d=date(2027, 2, 22)) == "2027-02-22"
        assert render_template_string("{{ t|datetime }}", t=late) == "2027-03-02 07:30"
        assert render_template_string("{{ t|date }}", t=late) == "2027-03-02"
        assert render_template_string("{{ n|date }} {{ n|datetime }}", n=None) == "— —"


def test_book_in_chinese_shows_no_long_form_dates(app, book):
    book_client = app.test_client()
    book_client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "zh-CN"
    assert Auth(book_client).login("rm_py").status_code == 302
    page = book_client.get("/book").get_data(as_text=True)
    assert "2015-03-01" in page and not re.search(r"\d{4}年\d{1,2}月\d{1,2}日", page)
