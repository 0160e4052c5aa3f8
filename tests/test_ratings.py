"""Clients rate their manager's service from their home page: 1–5 stars, at most once per cycle."""
from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import func, select

from models import AuditEntry, Client, Manager, ServiceRating, Team, db
from portal.operations import evaluations as ops
from portal.operations.errors import OperationError
from portal.rules.calendar import business_today
from tests.helpers import csrf_token, user

pytestmark = pytest.mark.language("en")


def open_cycle(code="TEAMA", name="This quarter"):
    today = business_today()
    team = db.session.scalar(select(Team).where(Team.code == code)) if code != "all" else None
    cycle = ops.create_cycle(name, date(today.year, 1, 1), date(today.year, 12, 31), team, user("admin"))
    ops.open_cycle(cycle, user("admin"))
    db.session.commit()
    return cycle


def rate(client, stars="4", comment="", cycle=None):
    page = client.get("/").get_data(as_text=True)
    match = re.search(r'name="cycle" value="(\d+)"', page)
    data = {"csrf_token": csrf_token(client, "/"), "stars": stars, "comment": comment,
            "cycle": str(cycle) if cycle is not None else (match.group(1) if match else "")}
    return client.post("/my/rating", data=data, follow_redirects=True)


def test_no_card_form_without_an_open_cycle(client, auth, world):
    auth.login("client_a")
    page = client.get("/").get_data(as_text=True)
    assert 'id="rating-card"' in page and 'id="rating-form"' not in page and 'id="rating-closed"' in page


def test_a_client_rates_once_per_cycle_and_sees_the_rating(client, auth, world):
    cycle = open_cycle()
    auth.login("client_a")
    page = client.get("/").get_data(as_text=True)
    assert 'id="rating-form"' in page and 'type="radio" name="stars"' in page
    response = rate(client, "5", "耐心细致")
    html = response.get_data(as_text=True)
    assert "Thank you" in html and 'id="rating-form"' not in html and "耐心细致" in html
    rating = db.session.scalar(select(ServiceRating))
    rma1 = db.session.scalar(select(Manager).where(Manager.employee_no == "RMA1"))
    assert (rating.stars, rating.comment, rating.manager_id, rating.cycle_id) == (5, "耐心细致", rma1.id, cycle.id)
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "rating.create"))
    assert entry.object_id == "CA0001" and entry.after["stars"] == 5
    # A second attempt (a replayed form) is refused with a clear message; still one rating.
    again = rate(client, "1", cycle=cycle.id)
    assert "already rated" in again.get_data(as_text=True)
    assert db.session.scalar(select(func.count(ServiceRating.id))) == 1
    assert "耐心细致" in client.get("/my/ratings").get_data(as_text=True)


def test_the_unique_index_holds_even_without_the_check(app, world):
    cycle = open_cycle()
    ca1 = db.session.scalar(select(Client).where(Client.client_no == "CA0001"))
    db.session.add(ServiceRating(client_id=ca1.id, manager_id=ca1.manager_id, cycle_id=cycle.id, stars=3))
    db.session.commit()
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError):
        db.session.add(ServiceRating(client_id=ca1.id, manager_id=ca1.manager_id, cycle_id=cycle.id, stars=4))
        db.session.flush()
    db.session.rollback()


def test_the_rating_goes_to_the_manager_at_the_time(client, auth, world):
    cycle = open_cycle("all", name="Everyone")
    auth.login("client_a")
    rate(client, "4")
    ca1 = db.session.scalar(select(Client).where(Client.client_no == "CA0001"))
    ca1.manager_id = db.session.scalar(select(Manager.id).where(Manager.employee_no == "RMA2"))
    db.session.commit()
    assert 'id="rating-form"' not in client.get("/").get_data(as_text=True)  # one per cycle, whoever the manager
    ratings = db.session.execute(select(Manager.employee_no).join(ServiceRating,
                                                                  ServiceRating.manager_id == Manager.id)).all()
    assert [r[0] for r in ratings] == ["RMA1"]
    assert ops.rating_cycle_for(ca1) is None and cycle.state == "open"


@pytest.mark.parametrize("stars", ["0", "6", "", "x", "3.5"])
def test_stars_must_be_1_to_5(client, auth, world, stars):
    open_cycle()
    auth.login("client_a")
    response = rate(client, stars)
    assert response.status_code == 200 and "alert-danger" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(ServiceRating.id))) == 0


def test_a_too_long_comment_is_refused(client, auth, world):
    open_cycle()
    auth.login("client_a")
    response = rate(client, "3", "好" * 1001)
    assert "alert-danger" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(ServiceRating.id))) == 0


def test_a_cycle_that_does_not_cover_the_manager_is_refused(client, auth, world):
    other = open_cycle("TEAMB", name="B only")
    auth.login("client_a")
    assert 'id="rating-form"' not in client.get("/").get_data(as_text=True)
    response = rate(client, "5", cycle=other.id)
    assert "not open" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(ServiceRating.id))) == 0


def test_a_closed_cycle_takes_no_ratings(app, world):
    cycle = open_cycle()
    ca1 = db.session.scalar(select(Client).where(Client.client_no == "CA0001"))
    for evaluation in db.session.scalars(select(ops.Evaluation).where(ops.Evaluation.cycle_id == cycle.id)).all():
        ops.score_evaluation(evaluation, {"satisfaction": 70, "kpi": 70, "team": 70, "competence": 70}, None,
                             user("admin"))
    ops.close_cycle(cycle, user("admin"))
    db.session.commit()
    with pytest.raises(OperationError) as raised:
        ops.rate_manager(ca1, cycle.id, 5, None, user("client_a"))
    assert raised.value.code == "no_open_cycle"


def test_a_client_without_a_manager_has_no_one_to_rate(app, world):
    cycle = open_cycle()
    ca1 = db.session.scalar(select(Client).where(Client.client_no == "CA0001"))
    ca1.manager_id = None
    with pytest.raises(OperationError) as raised:
        ops.rate_manager(ca1, cycle.id, 5, None, None)
    assert raised.value.code == "no_manager"


def test_only_clients_rate(client, auth, world):
    open_cycle()
    auth.login("rm_a")
    response = client.post("/my/rating", data={"csrf_token": csrf_token(client, "/"), "stars": "5"})
    assert response.status_code == 403
    assert client.get("/my/ratings").status_code == 403


def test_a_rating_feeds_the_derived_satisfaction(client, auth, world):
    cycle = open_cycle()
    auth.login("client_a")
    rate(client, "4")
    rma1 = db.session.scalar(select(Manager).where(Manager.employee_no == "RMA1"))
    figures = ops.satisfaction_figures(rma1.id, cycle)
    assert figures["ratings"] == 1 and figures["figure"] == "75.00"
