"""Reports on hand-built data: level and score distributions, trend, rates, calibration; scope and exports."""
from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from models import LevelChange, db
from portal.promotions import reports
from tests.test_promotions import closed_cycle, evaluate

pytestmark = pytest.mark.language("en")

C1_END, C2_END = date(2025, 6, 30), date(2025, 9, 30)
TOTALS = {  # employee_no: (C1 total, C2 total)
    "RMA1": (60, 65), "RMA2": (70, 95), "RMB1": (80, 100), "RMB2": (90, 55),
}


@pytest.fixture
def data(world):
    """Two closed cycles over everyone, four managers scored, one promotion and one demotion from the second."""
    people = {m.employee_no: m for side in ("a", "b") for m in (world[side]["rm"], world[side]["rm2"])}
    c1 = closed_cycle(C1_END, name="2025 Q2")
    c2 = closed_cycle(C2_END, name="2025 Q3")
    for employee_no, (first, second) in TOTALS.items():
        evaluate(c1, people[employee_no], 70, total=Decimal(first))
        evaluate(c2, people[employee_no], 70, total=Decimal(second))
    for employee_no, kind, before, after in (("RMA1", "promotion", "junior", "mid"), ("RMB2", "demotion", "mid",
                                                                                      "junior")):
        db.session.add(LevelChange(manager_id=people[employee_no].id, kind=kind, from_level=before, to_level=after,
                                   effective_date=date(2025, 10, 15), cycle_id=c2.id, reason="test"))
    db.session.commit()
    return {"c1": c1, "c2": c2, "people": people, "world": world}


def _csv(response) -> list[list[str]]:
    assert response.status_code == 200 and response.mimetype == "text/csv"
    return list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))


# --- figures --------------------------------------------------------------------------------------------


def test_level_distribution(app, data):
    assert reports.level_distribution() == [("junior", 2), ("mid", 2), ("senior", 2), ("principal", 0)]
    team_a = [data["world"]["a"]["team"].id]
    assert reports.level_distribution(team_a) == [("junior", 1), ("mid", 1), ("senior", 1), ("principal", 0)]
    assert reports.level_by_team() == [("TEAMA", "Team TEAMA", 1, 1, 1, 0, 3), ("TEAMB", "Team TEAMB", 1, 1, 1, 0, 3)]


def test_score_distribution_in_bands_and_ten_point_bins(app, data):
    figures = reports.score_distribution(data["c2"].id)
    overall = figures["overall"]
    assert overall["count"] == 4 and overall["mean"] == Decimal("78.75")
    assert overall["bins"] == [0, 0, 0, 0, 0, 1, 1, 0, 0, 2]  # 55; 65; 95 and 100 (100 in the last bin)
    assert dict(overall["bands"]) == {"excellent": 2, "needs_improvement": 1, "unsatisfactory": 1}
    team_a, team_b = figures["teams"]
    assert (team_a["code"], team_a["count"], team_a["mean"]) == ("TEAMA", 2, Decimal("80.00"))
    assert team_b["bins"][9] == 1 and team_b["bins"][5] == 1
    only_b = reports.score_distribution(data["c2"].id, [data["world"]["b"]["team"].id])
    assert [row["code"] for row in only_b["teams"]] == ["TEAMB"] and only_b["overall"]["count"] == 2


def test_score_trend_beside_the_team_mean(app, data):
    rows = reports.score_trend(data["people"]["RMA1"].id)
    assert [(r["name"], r["total"], r["mean"]) for r in rows] == [
        ("2025 Q2", Decimal("60.00"), Decimal("65.00")), ("2025 Q3", Decimal("65.00"), Decimal("80.00"))]


def test_rates_per_cycle_and_year(app, data):
    per_cycle = reports.rates_per_cycle()
    assert [(r.period, r.evaluated, r.promotions, r.demotions) for r in per_cycle] == [
        ("2025 Q2", 4, 0, 0), ("2025 Q3", 4, 1, 1)]
    assert per_cycle[1].promotion_rate == Decimal("25.00") and per_cycle[0].demotion_rate == Decimal("0.00")
    per_year = reports.rates_per_year()
    assert [(r.period, r.evaluated, r.promotions, r.demotions) for r in per_year] == [("2025", 4, 1, 1)]
    team_a = reports.rates_per_cycle([data["world"]["a"]["team"].id])
    assert [(r.evaluated, r.promotions, r.demotions) for r in team_a] == [(2, 0, 0), (2, 1, 0)]


def test_calibration_quartiles_per_supervisor(app, data):
    rows = reports.calibration([data["c1"].id, data["c2"].id])
    by_name = {row["name"]: row for row in rows}
    a = by_name[data["world"]["a"]["supervisor"].name]  # 60, 65, 70, 95
    assert (a["count"], a["mean"], a["min"], a["q1"], a["median"], a["q3"], a["max"]) == (
        4, Decimal("72.50"), Decimal("60.00"), Decimal("63.75"), Decimal("67.50"), Decimal("76.25"), Decimal("95.00"))
    b = by_name[data["world"]["b"]["supervisor"].name]  # 55, 80, 90, 100
    assert (b["q1"], b["median"], b["q3"], b["mean"]) == (Decimal("73.75"), Decimal("85.00"), Decimal("92.50"),
                                                          Decimal("81.25"))
    assert a["teams"] == "TEAMA"
    single = reports.calibration([data["c2"].id])  # two totals a supervisor: the quartiles interpolate
    a2 = next(row for row in single if row["teams"] == "TEAMA")
    assert (a2["q1"], a2["median"], a2["q3"]) == (Decimal("72.50"), Decimal("80.00"), Decimal("87.50"))


def test_a_supervisor_sees_the_others_pooled(app, data):
    own = data["world"]["a"]["supervisor"].id
    rows = reports.calibration([data["c1"].id, data["c2"].id], own_supervisor_id=own)
    assert [(row["key"], row["count"], row["others"]) for row in rows] == [(own, 4, False), (-1, 4, True)]
    assert rows[1]["name"] is None and rows[1]["median"] == Decimal("85.00")


# --- pages, scope and exports --------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/reports", "/reports/levels", "/reports/scores", "/reports/trend?manager=RMB1",
                                  "/reports/rates?per=year", "/reports/calibration"])
def test_report_pages_render_with_charts_and_tables(client, auth, data, path):
    auth.login("compliance")
    response = client.get(path)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    if path != "/reports":
        assert "<svg" in page and "<table" in page


def test_scores_page_figures(client, auth, data):
    auth.login("admin")
    page = client.get(f"/reports/scores?cycle={data['c2'].id}").get_data(as_text=True)
    assert "4 evaluations" in page and "mean 78.75" in page and 'id="histogram"' in page


@pytest.mark.parametrize("login, path, status", [
    ("rm_a", "/reports/levels", 403), ("client_a", "/reports", 403),
    ("sup_a", "/reports/levels?team=TEAMB", 404), ("sup_a", "/reports/trend?manager=RMB1", 404),
    ("sup_a", "/reports/levels?team=TEAMA", 200), ("sup_a", "/reports/trend?manager=RMA2", 200),
    ("sup_a", "/reports/scores?cycle=999", 404),
])
def test_report_scope(client, auth, data, login, path, status):
    auth.login(login)
    assert client.get(path).status_code == status


def test_a_supervisors_reports_cover_their_team_only(client, auth, data):
    auth.login("sup_a")
    levels = client.get("/reports/levels?format=csv")
    assert [row[0] for row in _csv(levels)[1:]] == ["TEAMA"]
    scores = _csv(client.get(f"/reports/scores?format=csv&cycle={data['c2'].id}"))
    assert [row[1] for row in scores[1:]] == ["TEAMA"]
    calibration = _csv(client.get("/reports/calibration?format=csv"))
    assert [row[0] for row in calibration[1:]] == [data["world"]["a"]["supervisor"].name, "All other supervisors"]


def test_exports_neutralise_formula_cells(client, auth, data):
    team = data["world"]["b"]["team"]
    team.name = '=HYPERLINK("http://evil.example","x")'
    db.session.commit()
    auth.login("admin")
    rows = _csv(client.get("/reports/levels?format=csv"))
    assert rows[0][:2] == ["Team code", "Team"]
    assert rows[2][1] == "'" + team.name and rows[2][2:] == ["1", "1", "1", "0", "3"]
    xlsx = client.get("/reports/levels?format=xlsx")
    assert xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(xlsx.data)).active
    assert sheet.cell(row=3, column=2).value == "'" + team.name and sheet.cell(row=3, column=3).value == 1


@pytest.mark.parametrize("path, first", [
    ("/reports/rates?format=csv", "Cycle"), ("/reports/rates?per=year&format=xlsx", None),
    ("/reports/trend?manager=RMA1&format=csv", "Cycle"), ("/reports/calibration?format=xlsx", None),
])
def test_every_report_exports(client, auth, data, path, first):
    auth.login("compliance")
    response = client.get(path)
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    if first:
        assert _csv(response)[0][0] == first


def test_admin_calibration_shows_everyone_first(client, auth, data):
    auth.login("admin")
    rows = _csv(client.get("/reports/calibration?format=csv"))
    assert rows[1][0] == "All supervisors" and rows[1][2] == "8"  # both cycles, four managers each
    assert rows[1][6] == "75.00"  # median of 55, 60, 65, 70, 80, 90, 95, 100
    assert {row[0] for row in rows[2:]} == {data["world"]["a"]["supervisor"].name,
                                            data["world"]["b"]["supervisor"].name}
    page = client.get(f"/reports/calibration?cycle={data['c1'].id}&cycle={data['c2'].id}").get_data(as_text=True)
    assert 'id="calibration-chart"' in page and "All supervisors" in page
