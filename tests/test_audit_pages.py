"""The audit log as people read it: actions and objects in words in both languages, the object a link,
the changed fields as a before/after table with Chinese as written, China time, China-date filters, export."""
from __future__ import annotations

import csv
import html
import io
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.helpers import Auth, client_in, csrf_token

ROOT = Path(__file__).resolve().parents[1]


def visible_text(page: str) -> str:
    """The page as a reader sees it: no tags, no attribute values, entities decoded."""
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.DOTALL)
    return html.unescape(re.sub(r"<[^>]+>", " ", body))


@pytest.fixture
def reassigned(app, world):
    """A supervisor moves a client with a Chinese reason: an entry with Chinese before/after values."""
    supervisor = client_in(app, "zh-CN")
    Auth(supervisor).login("sup_a")
    supervisor.post("/clients/CA0001/reassign", data={
        "to_manager": "RMA2", "reason": "连续三个月未联系客户", "csrf_token": csrf_token(supervisor, "/clients/CA0001/reassign")})
    return world


def test_every_recorded_action_has_words():
    from portal.auditlog.words import ACTIONS

    codes = set()
    for path in (ROOT / "portal").rglob("*.py"):
        for match in re.finditer(r"\brecord(?:_now)?\(\s*\"([a-z_]+\.[a-z_]+)\"", path.read_text(encoding="utf-8")):
            codes.add(match.group(1))
        for match in re.finditer(r"\"([a-z_]+\.[a-z_]+)\" if \w+ else \"([a-z_]+\.[a-z_]+)\"",
                                 path.read_text(encoding="utf-8")):
            codes.update(match.groups())
    codes |= {"investor.approve", "investor.reject", "assets.import", "revenue.import"}  # built from parts
    assert len(codes) > 45
    assert sorted(codes - set(ACTIONS)) == []


@pytest.mark.parametrize("language,words,object_word,fields", [
    ("zh-CN", ["客户已转给其他客户经理", "登录"], "客户", ("客户经理", "原因")),
    ("en", ["Client moved to another manager", "Signed in"], "Client", ("Manager", "Reason")),
])
def test_log_reads_in_words_with_no_codes_and_no_escapes(app, reassigned, language, words, object_word, fields):
    reader = client_in(app, language)
    Auth(reader).login("compliance")
    page = reader.get("/audit").get_data(as_text=True)
    text = visible_text(page)
    for word in words:
        assert word in text
    assert not re.search(r"\b(auth\.sign_in|client\.reassign|user\.create)\b", text), "raw action codes shown"
    assert "\\u" not in page and "&#34;" not in page
    # The client is a link to its page; the changed fields sit in a before/after table, Chinese as written.
    row = re.search(r'<tr data-action="client.reassign">(.*?)</tr>\s*(?=<tr data-action|</tbody>\s*</table>\s*</div>)',
                    page, re.DOTALL).group(1)
    assert re.search(rf'{object_word}</span>\s*<a href="/clients/CA0001">CA0001</a>', row)
    diff = dict((field, (old, new)) for field, old, new in re.findall(
        r'<tr><th scope="row">([^<]*)</th><td>([^<]*)</td><td>([^<]*)</td></tr>', row))
    assert diff == {fields[0]: ("RMA1", "RMA2"), fields[1]: ("—", "连续三个月未联系客户")}


def test_times_are_china_time_and_date_filters_are_china_dates(app, world):
    from models import AuditEntry, db
    from portal.audit import record

    with app.test_request_context("/"):
        record("team.create", "team", "LATE", after={"code": "LATE"})
    db.session.flush()
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.object_id == "LATE"))
    # 17:30 UTC on 1 March is 01:30 on 2 March in Shanghai.
    db.session.execute(AuditEntry.__table__.insert().values(
        at=datetime(2026, 3, 1, 17, 30, 5, tzinfo=UTC), action="team.create", object_type="team", object_id="LATE2",
        outcome="ok", after={"code": "LATE2"}))
    db.session.commit()
    assert entry is not None
    reader = client_in(app, "en")
    Auth(reader).login("admin")
    page = reader.get("/audit?object_id=LATE2").get_data(as_text=True)
    assert "2026-03-02 01:30:05" in page and "2026-03-01 17:30" not in page
    assert "LATE2" in reader.get("/audit?from=2026-03-02&to=2026-03-02").get_data(as_text=True)
    assert "LATE2" not in reader.get("/audit?from=2026-03-01&to=2026-03-01").get_data(as_text=True)


def test_filters_offer_actions_and_objects_in_words(app, reassigned):
    reader = client_in(app, "zh-CN")
    Auth(reader).login("admin")
    page = reader.get("/audit?action=client.").get_data(as_text=True)
    assert re.search(r'<option value="client\." selected>客户</option>', page)
    assert re.search(r'<option value="evaluation_cycle">考核周期</option>', page)
    assert 'data-action="client.reassign"' in page and 'data-action="auth.sign_in"' not in page
    assert re.search(r'<input class="form-control form-control-sm" type="date" id="from"', page)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_holds_what_the_filters_select(app, reassigned, fmt):
    reader = client_in(app, "zh-CN")
    Auth(reader).login("compliance")
    response = reader.get(f"/audit/export?format={fmt}&action=client.")
    assert response.status_code == 200
    assert f'filename="audit-log.{fmt}"' in response.headers["Content-Disposition"]
    if fmt == "csv":
        rows = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    else:
        from openpyxl import load_workbook

        sheet = load_workbook(io.BytesIO(response.get_data())).active
        rows = [[("" if c is None else str(c)) for c in row] for row in sheet.iter_rows(values_only=True)]
    assert rows[0][:4] == ["时间", "操作人", "角色", "操作"]
    assert len(rows) == 2
    assert rows[1][3] == "客户已转给其他客户经理" and rows[1][4] == "client.reassign" and rows[1][6] == "CA0001"
    assert "原因: — → 连续三个月未联系客户" in rows[1][8]
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", rows[1][0])


def test_only_admin_and_compliance_export(app, world):
    reader = client_in(app, "en")
    Auth(reader).login("rm_a")
    assert reader.get("/audit/export?format=csv").status_code in (403, 404)
