"""An administrator uploads the sample branch, staff and client files, sees the counts, then a staff file with
bad rows and sees every bad row named in their language."""
from __future__ import annotations

from pathlib import Path

from models import db
from tests.e2e.conftest import screenshot
from tests.e2e.test_book_browser import sign_in
from tests.helpers import Factory

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "samples"


def upload(page, kind: str, path: Path) -> None:
    page.goto(page.base_url + "/admin/imports")
    page.check(f"input[name=kind][value={kind}]")
    page.set_input_files("input[name=file]", str(path))
    page.click("form[action='/admin/imports'] button[type=submit]")
    page.wait_for_load_state()


def counts(page) -> dict[str, str]:
    cells = page.locator("#import-counts dd")
    return {cells.nth(i).get_attribute("data-count"): cells.nth(i).inner_text() for i in range(cells.count())}


def test_admin_uploads_the_samples_then_sees_every_bad_row(app, page, tmp_path):
    Factory().user("admin", "admin")
    db.session.commit()
    sign_in(page, "admin")
    upload(page, "branches", SAMPLES / "branches.csv")
    assert counts(page) == {"created": "3", "updated": "0", "unchanged": "0"}
    upload(page, "staff", SAMPLES / "staff.csv")
    assert counts(page)["created"] == "7"
    upload(page, "clients", SAMPLES / "clients-gb18030.csv")
    assert "导入" in page.locator("#import-result h2").inner_text()
    assert counts(page)["created"] == "10" and counts(page)["reassigned"] == "0"
    screenshot(page, "onboarding-clients-imported-zh")

    bad = tmp_path / "staff-bad.csv"
    bad.write_text("employee_no,name,branch,team_code,team_name,team_head,level,level_since,hire_date,status,email,phone\n"
                   "E20001,,BJ01,,,no,junior,2020-01-06,2020-01-06,active,,\n"          # line 2: no name
                   "E20002,钱二,ZZ09,,,no,junior,2020-01-06,2020-01-06,active,,\n"      # line 3: unknown branch
                   "E20003,钱三,BJ01,,,no,expert,2020-01-06,2020-01-06,active,,\n"      # line 4: unknown level
                   "E10002,李芳,BJ01,BJ-WM1,北京财富管理一组,no,mid,2022-01-01,2018-06-04,left,,\n",  # line 5: leaver
                   encoding="utf-8")
    upload(page, "staff", bad)
    assert "未导入任何数据" in page.locator("#import-refused").inner_text()
    rows = page.locator("#import-problems tbody tr")
    named = {(rows.nth(i).get_attribute("data-line"), rows.nth(i).get_attribute("data-code")): rows.nth(i).inner_text()
             for i in range(rows.count())}
    assert set(named) == {("2", "missing"), ("3", "unknown_branch"), ("4", "unknown_level"),
                          ("5", "leaver_has_clients")}
    assert "为必填项" in named[("2", "missing")]
    assert "请先导入营业部" in named[("3", "unknown_branch")]
    assert "2 位客户" in named[("5", "leaver_has_clients")]
    screenshot(page, "onboarding-bad-rows-zh")
    # The refused upload answers 400, which Chromium logs; nothing else may go wrong on the pages.
    assert [error for error in page.console_errors if "400 (BAD REQUEST)" not in error] == []
