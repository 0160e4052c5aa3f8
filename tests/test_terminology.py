"""The portal's words: the catalogs follow docs/GLOSSARY.md, words with two meanings carry a message
context, level names have one capitalisation, and the header never repeats a word."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from tests.helpers import TEST_PASSWORD

ROOT = Path(__file__).resolve().parents[1]
GLOSSARY = ROOT / "docs" / "GLOSSARY.md"


def catalog(language: str) -> dict:
    with open(ROOT / "translations" / language / "LC_MESSAGES" / "messages.po", "rb") as handle:
        return {(m.context, m.id): m.string for m in read_po(handle) if m.id}


def glossary_rows() -> list[tuple[str, str | None, str]]:
    """(English, context or None, Chinese) of every four-column term row of the glossary."""
    rows = []
    for line in GLOSSARY.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 4 or cells[0] in ("English", "What") or set(cells[0]) <= {"-"}:
            continue
        rows.append((cells[0], cells[1] or None, cells[2]))
    return rows


def test_glossary_lists_the_words_with_two_meanings():
    rows = glossary_rows()
    assert len(rows) >= 50
    assert ("Name", None, "姓名") in rows and ("Name", "name of a thing", "名称") in rows
    assert ("Active", None, "在职") in rows and ("Active", "questionnaire version", "使用中") in rows
    assert ("Closed", "evaluation cycle", "已结束") in rows


@pytest.mark.parametrize("english,context,chinese", glossary_rows(), ids=lambda v: str(v))
def test_catalogs_follow_the_glossary(english, context, chinese):
    zh, en = catalog("zh_CN"), catalog("en")
    assert (context, english) in zh, f"{english!r} ({context}) is in the glossary but not in the catalog"
    assert zh[(context, english)] == chinese
    assert en[(context, english)] == english


def test_level_names_have_one_capitalisation():
    zh = catalog("zh_CN")
    for level in ("Junior", "Mid-level", "Senior", "Principal"):
        assert (None, f"{level} Relationship Manager") in zh
        assert (None, f"{level} relationship manager") not in zh
    sources = [p for folder in ("portal", "templates", "forms") for p in (ROOT / folder).rglob("*.*")
               if p.suffix in (".py", ".html")]
    lower = re.compile(r"\b(Junior|Mid-level|Senior|Principal) relationship manager\b")
    # Running prose ("a junior relationship manager is…") is lower case; a name starts with a capital.
    assert not [p for p in sources if lower.search(p.read_text(encoding="utf-8"))]


@pytest.fixture
def zh(app):
    from tests.helpers import client_in

    return client_in(app, "zh-CN")


def login(test_client, username):
    from tests.helpers import Auth

    assert Auth(test_client).login(username).status_code == 302


def test_product_name_column_is_not_a_persons_name(zh, world):
    login(zh, "admin")
    page = zh.get("/admin/products").get_data(as_text=True)
    header = re.search(r"<thead>(.*?)</thead>", page, re.DOTALL).group(1)
    assert "名称" in header and "姓名" not in header


def test_cycle_name_is_not_a_persons_name(zh, world):
    login(zh, "admin")
    page = zh.get("/cycles").get_data(as_text=True)
    assert "姓名" not in page
    form = zh.get("/cycles/new").get_data(as_text=True)
    assert re.search(r'<label[^>]*for="name"[^>]*>名称</label>', form)


def test_active_questionnaire_version_is_not_employed(zh, world):
    login(zh, "admin")
    page = zh.get("/admin/questionnaires").get_data(as_text=True)
    assert "使用中" in page and "在职" not in page


def test_closed_cycle_is_not_a_closed_account(app):
    from flask_babel import force_locale

    from portal.evaluations.views import evaluation_labels

    with app.test_request_context("/"), force_locale("zh_CN"):
        assert str(evaluation_labels()["state"]["closed"]) == "已结束"


def test_header_does_not_repeat_the_role(zh, world, make):
    from models import db
    from portal.operations.users import create_user

    create_user("rm_named_by_role", "客户经理", "rm", TEST_PASSWORD, employee_no=make.manager(world["a"]["team"]).employee_no)
    db.session.commit()
    login(zh, "rm_named_by_role")
    page = zh.get("/").get_data(as_text=True)
    signed_in = re.search(r'id="signed-in-as">(.*?)</span>', page).group(1)
    assert signed_in == "客户经理"
    login(zh, "rm_a")
    signed_in = re.search(r'id="signed-in-as">(.*?)</span>', zh.get("/").get_data(as_text=True)).group(1)
    assert signed_in == "Rm_A · 客户经理"

