"""Flask commands: seed-demo, create-user, create-api-token, revoke-api-tokens."""
from __future__ import annotations

import re
from collections import Counter
from datetime import date

import pytest
from sqlalchemy import func, select

from tests.helpers import Auth

SEED_ARGS = ["seed-demo", "--clients", "300", "--managers", "20", "--seed", "7"]
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CJK_NAME = re.compile(r"^[\u4e00-\u9fff]{2,4}$")
PINYIN_NAME = re.compile(r"^[A-Z][a-z]+ [A-Z][a-z]+$")
DEMO_ROLES = {"admin": "admin", "compliance": "compliance", "supervisor": "supervisor", "rm": "rm", "client": "client"}


def count(model) -> int:
    from models import db

    return db.session.scalar(select(func.count()).select_from(model))


def counts() -> dict:
    from models import AuditEntry, Client, Manager, Team, User

    return {m.__name__: count(m) for m in (Client, Manager, Team, User, AuditEntry)}


def gb11643_check(body: str) -> str:
    """The check character of an 18-character resident ID number (GB 11643-1999, ISO 7064 MOD 11-2)."""
    return "10X98765432"[sum(int(d) * w for d, w in zip(body, ID_WEIGHTS)) % 11]


def age_on(birth: date, day: date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def test_check_digit_helper_matches_a_published_example():
    # The worked example of GB 11643-1999, appendix: 11010519491231002X.
    assert gb11643_check("11010519491231002") == "X"
    assert gb11643_check("44052418800101001") == "4"


@pytest.fixture
def seeded(runner):
    result = runner.invoke(args=SEED_ARGS)
    assert result.exit_code == 0, result.output
    return result


@pytest.mark.commits  # seed-demo analyses the tables on an AUTOCOMMIT connection (PostgreSQL)
def test_seed_demo_fills_the_database(seeded):
    from models import Client, Manager, Team, User, db

    assert count(Client) == 300
    teams = db.session.scalars(select(Team)).all()
    managers = db.session.scalars(select(Manager)).all()
    supervisor_ids = {t.supervisor_id for t in teams}
    assert None not in supervisor_ids
    relationship_managers = [m for m in managers if m.id not in supervisor_ids]
    assert len(relationship_managers) == 20
    assert len(managers) == 20 + len(teams)
    assert count(User) == 5

    # Teams of 5–12 managers plus a supervisor, who belongs to the team they head.
    sizes = Counter(m.team_id for m in relationship_managers)
    for team in teams:
        assert team.supervisor.team_id == team.id, team.code
        assert 5 <= sizes[team.id] <= 12, f"team {team.code} has {sizes[team.id]} managers"
    assert all(m.team_id is not None for m in managers)
    assert len({t.code for t in teams}) == len(teams)

    # Every level, with varied dates in level that fit the hire dates.
    today = date.today()
    assert {m.level for m in managers} == {"junior", "mid", "senior", "principal"}
    assert len({m.level_since for m in managers}) > len(managers) // 2
    for m in managers:
        assert m.hire_date <= m.level_since <= today, m.employee_no
        assert m.status in ("active", "on_leave", "left")
        assert CJK_NAME.match(m.name) and m.name_pinyin and PINYIN_NAME.match(m.name_pinyin), (m.name, m.name_pinyin)

    clients = db.session.scalars(select(Client)).all()
    assert len({c.client_no for c in clients}) == 300
    ages = []
    for c in clients:
        assert CJK_NAME.match(c.name), c.name
        assert c.name_pinyin and PINYIN_NAME.match(c.name_pinyin), c.name_pinyin
        assert c.id_type == "resident_id"
        number = c.id_number
        assert len(number) == 18 and number[:17].isdigit(), number
        assert number[17] == gb11643_check(number[:17]), f"bad check digit in {number}"
        assert number[6:14] == c.birth_date.strftime("%Y%m%d"), number
        age = age_on(c.birth_date, today)
        ages.append(age)
        assert 18 <= age <= 100, (c.client_no, c.birth_date)
        assert age_on(c.birth_date, c.opened_on) >= 18, (c.client_no, c.birth_date, c.opened_on)
        assert c.opened_on <= today
        assert c.manager is not None and c.manager_id not in supervisor_ids
        assert c.manager.team is not None and c.branch
        assert re.fullmatch(r"1[3-9]\d{9}", c.phone or ""), c.phone
    assert max(ages) - min(ages) >= 20, "ages should be spread out"
    assert len({c.id_number for c in clients}) == 300

    # Books of uneven size.
    books = Counter(c.manager_id for c in clients)
    assert max(books.values()) > 2 * min(books.values())


def demo_logins(output: str) -> tuple[dict, str]:
    password = re.search(r"password: ([^)\s]+)\)", output)
    assert password, output
    found = {}
    for line in output.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] in DEMO_ROLES:
            found[parts[0]] = parts[1]
    return found, password.group(1)


@pytest.mark.commits  # seed-demo analyses the tables on an AUTOCOMMIT connection (PostgreSQL)
def test_seed_demo_prints_the_five_demo_logins_that_tell_one_story(seeded, app):
    from models import AuditEntry, Client, Team, User, db

    logins, password = demo_logins(seeded.stdout)
    assert logins == DEMO_ROLES
    users = {u.username: u for u in db.session.scalars(select(User))}
    assert {name: u.role for name, u in users.items()} == DEMO_ROLES
    assert all(u.active for u in users.values())

    supervisor, rm, client = users["supervisor"], users["rm"], users["client"]
    team = db.session.scalar(select(Team).where(Team.supervisor_id == supervisor.manager_id))
    assert team is not None, "the supervisor login heads a team"
    assert rm.manager is not None and rm.manager.team_id == team.id
    book = db.session.scalars(select(Client).where(Client.manager_id == rm.manager_id)).all()
    assert book, "the rm login has clients"
    assert all(c.manager.team_id == team.id for c in book)
    assert client.client is not None and client.client.manager_id == rm.manager_id

    # The printed password signs each demo login in, and the story holds on the pages.
    for username in DEMO_ROLES:
        browser = app.test_client()
        assert Auth(browser).login(username, password).status_code == 302, username
        if username == "rm":
            page = browser.get("/book").get_data(as_text=True)
            assert book[0].client_no in page or len(book) > 25
        if username == "supervisor":
            assert rm.manager.employee_no in browser.get("/team").get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "demo.seed")) == 1


@pytest.mark.commits  # seed-demo analyses the tables on an AUTOCOMMIT connection (PostgreSQL)
def test_seed_demo_refuses_a_second_run_and_if_empty_does_nothing(seeded, runner):
    before = counts()
    again = runner.invoke(args=SEED_ARGS)
    assert again.exit_code != 0
    assert "not empty" in again.output
    assert counts() == before

    quiet = runner.invoke(args=SEED_ARGS + ["--if-empty"])
    assert quiet.exit_code == 0, quiet.output
    assert counts() == before
    assert "Demo logins" not in quiet.output


@pytest.mark.commits  # seed-demo analyses the tables on an AUTOCOMMIT connection (PostgreSQL)
def test_seed_demo_if_empty_seeds_an_empty_database(runner):
    from models import Client

    result = runner.invoke(args=["seed-demo", "--clients", "40", "--managers", "6", "--seed", "1", "--if-empty"])
    assert result.exit_code == 0, result.output
    assert count(Client) == 40


@pytest.mark.commits  # seed-demo analyses the tables on an AUTOCOMMIT connection (PostgreSQL)
def test_seed_demo_is_reproducible(runner):
    from models import Client, Manager, db

    assert runner.invoke(args=SEED_ARGS).exit_code == 0
    clients = db.session.execute(select(Client.client_no, Client.name, Client.id_number, Client.birth_date)
                                 .order_by(Client.id).limit(20)).all()
    managers = db.session.execute(select(Manager.employee_no, Manager.name, Manager.level).order_by(Manager.id)).all()
    # The seed fixes the data: rebuilding the staff plan with the same seed gives the same people.
    import random

    from portal.demo import DemoPlan, build_staff

    _teams, plan = build_staff(DemoPlan(clients=300, managers=20, seed=7), random.Random(7))
    assert [(m["employee_no"], m["name"], m["level"]) for m in plan] == [tuple(row) for row in managers]
    assert len(clients) == 20


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5, 6])
@pytest.mark.commits  # seed-demo analyses the tables on an AUTOCOMMIT connection (PostgreSQL)
def test_seed_demo_team_shape_and_levels_hold_for_any_seed(runner, seed):
    """Teams of 5–12 managers plus a supervisor and all four levels are promises of the command, not of seed 7."""
    from models import Manager, Team, db

    result = runner.invoke(args=["seed-demo", "--clients", "60", "--managers", "20", "--seed", str(seed)])
    assert result.exit_code == 0, result.output
    teams = db.session.scalars(select(Team)).all()
    supervisors = {t.supervisor_id for t in teams}
    sizes = Counter(m.team_id for m in db.session.scalars(select(Manager)) if m.id not in supervisors)
    assert sum(sizes.values()) == 20
    assert sorted(sizes.values()) == sorted(v for v in sizes.values() if 5 <= v <= 12), \
        f"seed {seed}: team sizes {sorted(sizes.values())}"
    levels = set(db.session.scalars(select(Manager.level)))
    assert levels == {"junior", "mid", "senior", "principal"}, f"seed {seed}: levels {sorted(levels)}"


@pytest.mark.parametrize("args", [["--clients", "0"], ["--managers", "2"], ["--clients", "many"]])
def test_seed_demo_rejects_bad_options(runner, args):
    from models import Client, Manager

    result = runner.invoke(args=["seed-demo", *args])
    assert result.exit_code != 0
    assert count(Client) == 0 and count(Manager) == 0


# --- create-user -------------------------------------------------------------------------------------

NEW_PASSWORD = "cli-password-long-enough"


@pytest.fixture
def staff_record(make):
    from models import db

    team = make.team("TEAMX")
    manager = make.manager(team, employee_no="E12345")
    db.session.commit()
    return manager


def test_create_user_links_an_rm_login_to_its_staff_record(runner, staff_record, app):
    from models import User

    before = count(User)
    result = runner.invoke(args=["create-user", "Qian.Yi", "--role", "rm", "--employee", "E12345",
                                 "--password-stdin"], input=NEW_PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    assert "qian.yi" in result.output
    assert NEW_PASSWORD not in result.output
    assert count(User) == before + 1
    from models import AuditEntry, db

    user = db.session.scalar(select(User).where(User.username == "qian.yi"))
    assert user.role == "rm" and user.manager.employee_no == "E12345" and user.active
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "user.create"))
    assert entry is not None and entry.object_id == "qian.yi"

    browser = app.test_client()
    assert Auth(browser).login("qian.yi", NEW_PASSWORD).status_code == 302
    assert browser.get("/book").status_code == 200


def test_create_user_for_a_client(runner, world):
    from models import User, db

    result = runner.invoke(args=["create-user", "li.si", "--role", "client", "--client", "CA0002",
                                 "--password-stdin"], input=NEW_PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.username == "li.si"))
    assert user.client.client_no == "CA0002"


@pytest.mark.parametrize("args, password, message", [
    pytest.param(["--role", "rm", "--employee", "E99999"], NEW_PASSWORD, "E99999", id="unknown-employee"),
    pytest.param(["--role", "rm", "--employee", "E12345"], "short", "12", id="short-password"),
    pytest.param(["--role", "rm", "--employee", "E12345"], "", "12", id="empty-password"),
    pytest.param(["--role", "rm"], NEW_PASSWORD, "employee number", id="rm-without-employee"),
    pytest.param(["--role", "client", "--client", "C404"], NEW_PASSWORD, "C404", id="unknown-client"),
    pytest.param(["--role", "emperor"], NEW_PASSWORD, "emperor", id="unknown-role"),
])
def test_create_user_bad_input_exits_non_zero_and_creates_nothing(runner, staff_record, args, password, message):
    from models import AuditEntry, User

    users_before, audit_before = count(User), count(AuditEntry)
    result = runner.invoke(args=["create-user", "new.rm", *args, "--password-stdin"], input=password + "\n")
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output
    assert count(User) == users_before
    assert count(AuditEntry) == audit_before


def test_create_user_refuses_a_taken_username(runner, staff_record, world):
    from models import User

    before = count(User)
    result = runner.invoke(args=["create-user", "rm_a", "--role", "rm", "--employee", "E12345", "--password-stdin"],
                           input=NEW_PASSWORD + "\n")
    assert result.exit_code != 0 and "already taken" in result.output
    assert count(User) == before


# --- API tokens -------------------------------------------------------------------------------------

def test_create_api_token_prints_a_working_token_and_revoke_ends_it(runner, world, client):
    from models import ApiToken, AuditEntry, db

    result = runner.invoke(args=["create-api-token", "rm_a"])
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1].strip()
    assert len(token) >= 32 and " " not in token

    stored = db.session.scalars(select(ApiToken)).all()
    assert len(stored) == 1 and stored[0].token_hash != token and token not in stored[0].token_hash

    response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    body = response.get_json()
    assert body["username"] == "rm_a" and body["role"] == "rm"
    assert body["manager"]["employee_no"] == "RMA1"
    items = client.get("/api/v1/clients", headers={"Authorization": f"Bearer {token}"}).get_json()["items"]
    assert sorted(i["client_no"] for i in items) == ["CA0001", "CA0002"]

    revoked = runner.invoke(args=["revoke-api-tokens", "rm_a"])
    assert revoked.exit_code == 0, revoked.output
    assert "1" in revoked.output
    response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    error = response.get_json()["error"]
    assert error["code"] and error["message"]

    actions = [e.action for e in db.session.scalars(select(AuditEntry))]
    assert "api_token.create" in actions and "api_token.revoke" in actions


def test_each_token_is_new_and_revocation_ends_all_of_them(runner, world, client):
    tokens = [runner.invoke(args=["create-api-token", "sup_a"]).output.strip().splitlines()[-1] for _ in range(2)]
    assert tokens[0] != tokens[1]
    for token in tokens:
        assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert runner.invoke(args=["revoke-api-tokens", "sup_a"]).exit_code == 0
    for token in tokens:
        assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_token_commands_refuse_unknown_users(runner, world):
    from models import ApiToken

    result = runner.invoke(args=["create-api-token", "nobody"])
    assert result.exit_code != 0 and "nobody" in result.output
    assert runner.invoke(args=["revoke-api-tokens", "nobody"]).exit_code != 0
    assert count(ApiToken) == 0


@pytest.mark.commits  # seed-demo analyses the tables on an AUTOCOMMIT connection (PostgreSQL)
def test_seed_demo_never_makes_minors_or_accounts_opened_in_the_future(runner):
    """Ages and opening dates must fit together for every client, not just most: checked over a large book."""
    from models import Client, db

    result = runner.invoke(args=["seed-demo", "--clients", "20000", "--managers", "20", "--seed", "7"])
    assert result.exit_code == 0, result.output
    today = date.today()
    rows = db.session.execute(select(Client.client_no, Client.birth_date, Client.opened_on)).all()
    assert len(rows) == 20000
    minors = [(no, born) for no, born, _opened in rows if age_on(born, today) < 18]
    future = [(no, opened) for no, _born, opened in rows if opened > today]
    under_age_openings = [(no, born, opened) for no, born, opened in rows if age_on(born, opened) < 18]
    assert not minors, f"{len(minors)} clients under 18, e.g. {minors[:3]}"
    assert not future, f"{len(future)} accounts opened in the future, e.g. {future[:3]}"
    assert not under_age_openings, f"{len(under_age_openings)} accounts opened before 18, e.g. {under_age_openings[:3]}"
