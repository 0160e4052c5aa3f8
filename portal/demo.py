"""Synthetic but plausible demo data, written in bulk (COPY on PostgreSQL, executemany on SQLite).

Chinese names with their pinyin, resident ID numbers with valid check digits, ages and dates that
fit together, teams of 5–12 managers under a supervisor each, books of uneven size.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Callable, Iterable

from sqlalchemy import func, insert, select, text

from models import LEVELS, Client, Manager, Team, User, db, utcnow
from portal.audit import record

SURNAMES = [
    ("王", "Wang"), ("李", "Li"), ("张", "Zhang"), ("刘", "Liu"), ("陈", "Chen"), ("杨", "Yang"), ("黄", "Huang"),
    ("赵", "Zhao"), ("吴", "Wu"), ("周", "Zhou"), ("徐", "Xu"), ("孙", "Sun"), ("马", "Ma"), ("朱", "Zhu"),
    ("胡", "Hu"), ("郭", "Guo"), ("何", "He"), ("高", "Gao"), ("林", "Lin"), ("罗", "Luo"), ("郑", "Zheng"),
    ("梁", "Liang"), ("谢", "Xie"), ("宋", "Song"), ("唐", "Tang"), ("韩", "Han"), ("冯", "Feng"), ("邓", "Deng"),
    ("曹", "Cao"), ("彭", "Peng"), ("曾", "Zeng"), ("萧", "Xiao"), ("田", "Tian"), ("董", "Dong"), ("潘", "Pan"),
]
GIVEN = [
    ("伟", "wei"), ("芳", "fang"), ("娜", "na"), ("敏", "min"), ("静", "jing"), ("丽", "li"), ("强", "qiang"),
    ("磊", "lei"), ("军", "jun"), ("洋", "yang"), ("勇", "yong"), ("艳", "yan"), ("杰", "jie"), ("娟", "juan"),
    ("涛", "tao"), ("明", "ming"), ("超", "chao"), ("秀", "xiu"), ("霞", "xia"), ("平", "ping"), ("刚", "gang"),
    ("华", "hua"), ("建", "jian"), ("国", "guo"), ("文", "wen"), ("辉", "hui"), ("玲", "ling"), ("婷", "ting"),
    ("宇", "yu"), ("浩", "hao"), ("欣", "xin"), ("晨", "chen"), ("子", "zi"), ("涵", "han"), ("睿", "rui"),
    ("博", "bo"), ("思", "si"), ("雨", "yu"), ("嘉", "jia"), ("琳", "lin"), ("鹏", "peng"), ("晓", "xiao"),
]
# Branch, the administrative code its residents' ID numbers start with, and its team-name stem.
BRANCHES = [
    ("北京建国门营业部", "110105", "BJ"), ("上海浦东新区营业部", "310115", "SH"), ("深圳福田营业部", "440304", "SZ"),
    ("广州天河营业部", "440106", "GZ"), ("杭州西湖营业部", "330106", "HZ"), ("成都高新营业部", "510107", "CD"),
    ("武汉江汉营业部", "420103", "WH"), ("南京鼓楼营业部", "320106", "NJ"),
]
TEAM_WORDS = ["财富管理一组", "财富管理二组", "机构服务组", "高净值客户组", "零售客户组", "综合金融组"]
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"
DEMO_PASSWORD = "demo-password-2026"


def resident_id(region: str, birth: date, sequence: int) -> str:
    """An 18-digit resident ID number with its GB 11643 check character."""
    body = f"{region}{birth:%Y%m%d}{sequence % 1000:03d}"
    total = sum(int(d) * w for d, w in zip(body, ID_WEIGHTS))
    return body + ID_CHECK[total % 11]


def person_name(rng: random.Random) -> tuple[str, str]:
    surname, surname_py = rng.choice(SURNAMES)
    parts = [rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2)))]
    return surname + "".join(c for c, _ in parts), f"{surname_py} " + "".join(p for _, p in parts).capitalize()


@dataclass
class DemoPlan:
    clients: int = 2000
    managers: int = 40
    seed: int = 2026
    today: date = field(default_factory=date.today)


def _random_date(rng: random.Random, start: date, end: date) -> date:
    if end <= start:
        return start
    return start + timedelta(days=rng.randrange((end - start).days + 1))


def years_before(day: date, years: int) -> date:
    """The same calendar day `years` earlier (29 February becomes 28 February)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def _birth_date(rng: random.Random, today: date) -> date:
    """A birth date giving an age of 18–88 today; investors skew middle-aged, with a tail past 65."""
    age = min(max(int(rng.gauss(46, 13)), 18), 88)
    latest = years_before(today, age)  # turned `age` today at the latest
    earliest = years_before(today, age + 1) + timedelta(days=1)
    return _random_date(rng, earliest, latest)


def team_sizes(managers: int, rng: random.Random) -> list[int]:
    """Split `managers` into teams of 5–12 (fewer than 5 in all makes one small team)."""
    if managers < 5:
        return [managers]
    low, high = -(-managers // 12), managers // 5  # as few teams as 12 a team allows, as many as 5 allows
    count = min(max(round(managers / 8.5), low), high)
    sizes = [5] * count
    for _ in range(managers - 5 * count):
        choices = [i for i, size in enumerate(sizes) if size < 12]
        sizes[rng.choice(choices)] += 1
    return sizes


def build_staff(plan: DemoPlan, rng: random.Random):
    """Teams of 5–12 managers plus a supervisor each; returns (teams, managers) as row dicts."""
    teams, managers = [], []
    next_id = 1
    team_no = 0
    today = plan.today
    for size in team_sizes(plan.managers, rng):
        team_no += 1
        branch, _region, stem = BRANCHES[(team_no - 1) % len(BRANCHES)]
        team = {"id": team_no, "code": f"{stem}{team_no:04d}",
                "name": f"{branch[:2]}{TEAM_WORDS[(team_no - 1) // len(BRANCHES) % len(TEAM_WORDS)]}"
                        f"{'' if team_no <= len(BRANCHES) * len(TEAM_WORDS) else team_no}",
                "branch": branch}
        members = []
        for position in range(size + 1):  # position 0 is the supervisor
            if position == 0:
                level = rng.choice(("senior", "principal"))
            elif team_no == 1 and position <= len(LEVELS):
                level = LEVELS[position - 1]  # the first team shows every level of the ladder
            else:
                level = rng.choices(("junior", "mid", "senior", "principal"), weights=(40, 32, 20, 8))[0]
            years = {"junior": (0, 3), "mid": (2, 8), "senior": (5, 15), "principal": (8, 22)}[level]
            hire = today - timedelta(days=rng.randint(years[0] * 365 + 30, years[1] * 365 + 200))
            level_since = _random_date(rng, hire, today - timedelta(days=20))
            if level == "junior":
                level_since = hire
            status = "active" if position == 0 else rng.choices(("active", "on_leave", "left"), weights=(94, 4, 2))[0]
            name, pinyin = person_name(rng)
            row = {"id": next_id, "employee_no": f"E{next_id:06d}", "name": name, "name_pinyin": pinyin,
                   "level": level, "level_since": level_since, "hire_date": hire, "status": status,
                   "team_id": team_no}
            members.append(row)
            next_id += 1
        team["supervisor_id"] = members[0]["id"]
        teams.append(team)
        managers.extend(members)
    return teams, managers


def client_rows(plan: DemoPlan, rng: random.Random, teams: list[dict], managers: list[dict]) -> Iterable[tuple]:
    """Yield client tuples in COLUMNS order; books follow a heavy-tailed size distribution."""
    supervisors = {t["supervisor_id"] for t in teams}
    branch_of_team = {t["id"]: t["branch"] for t in teams}
    region_of_branch = {b: r for b, r, _s in BRANCHES}
    book_holders = [m for m in managers if m["id"] not in supervisors and m["status"] != "left"]
    weights = [rng.paretovariate(1.6) * (1.5 if m["level"] in ("senior", "principal") else 1.0) for m in book_holders]
    chosen = rng.choices(book_holders, weights=weights, k=plan.clients)
    today = plan.today
    for i, manager in enumerate(chosen, start=1):
        name, pinyin = person_name(rng)
        birth = _birth_date(rng, today)
        branch = branch_of_team[manager["team_id"]]
        adult = years_before(birth, -18)
        opened = _random_date(rng, max(adult, date(2003, 1, 1)), today - timedelta(days=1))
        phone = f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}"
        yield (i, f"C{i:09d}", name, pinyin, birth, "resident_id",
               resident_id(region_of_branch[branch], birth, rng.randrange(1000)), phone, branch, opened,
               manager["id"])


CLIENT_COLUMNS = ("id", "client_no", "name", "name_pinyin", "birth_date", "id_type", "id_number", "phone",
                  "branch", "opened_on", "manager_id")


def database_is_empty() -> bool:
    return not db.session.scalar(select(func.count(Client.id))) and not db.session.scalar(select(func.count(Manager.id)))


def seed(plan: DemoPlan, progress: Callable[[int], None] | None = None) -> dict:
    """Fill an empty database; returns the demo logins. One transaction: all of it, or none."""
    from portal.operations.users import create_user

    rng = random.Random(plan.seed)
    teams, managers = build_staff(plan, rng)
    db.session.execute(insert(Team.__table__), [{k: t[k] for k in ("id", "code", "name")} for t in teams])
    db.session.execute(insert(Manager.__table__), managers)
    db.session.execute(
        Team.__table__.update().where(Team.__table__.c.id == db.bindparam("tid"))
        .values(supervisor_id=db.bindparam("sid")),
        [{"tid": t["id"], "sid": t["supervisor_id"]} for t in teams],
    )
    rows = client_rows(plan, rng, teams, managers)
    dialect = db.engine.dialect.name
    if dialect == "postgresql":
        _copy_clients(rows, progress)
    else:
        batch: list[dict] = []
        for row in rows:
            batch.append(dict(zip(CLIENT_COLUMNS, row)))
            if len(batch) == 5000:
                db.session.execute(insert(Client.__table__), batch)
                if progress:
                    progress(len(batch))
                batch = []
        if batch:
            db.session.execute(insert(Client.__table__), batch)
            if progress:
                progress(len(batch))
    if dialect == "postgresql":
        for table in ("teams", "managers", "clients"):
            db.session.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                    f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"))

    # One demo login per role, linked so that the demo tells one story: the rm is in the supervisor's team.
    first_team = teams[0]
    supervisor_no = next(m["employee_no"] for m in managers if m["id"] == first_team["supervisor_id"])
    rm_row = db.session.execute(
        select(Manager.employee_no, Manager.id)
        .join(Client, Client.manager_id == Manager.id)
        .where(Manager.team_id == first_team["id"], Manager.id != first_team["supervisor_id"])
        .group_by(Manager.employee_no, Manager.id)
        .order_by(func.count(Client.id).desc()).limit(1)
    ).first()
    rm_no = rm_row[0] if rm_row else next(m["employee_no"] for m in managers if m["team_id"] == first_team["id"]
                                          and m["id"] != first_team["supervisor_id"])
    client_no = db.session.scalar(select(Client.client_no).where(Client.manager_id == rm_row[1])
                                  .order_by(Client.id).limit(1)) if rm_row else None
    logins = [
        ("admin", "系统管理员", "admin", {}),
        ("compliance", "合规专员", "compliance", {}),
        ("supervisor", "团队主管", "supervisor", {"employee_no": supervisor_no}),
        ("rm", "客户经理", "rm", {"employee_no": rm_no}),
    ]
    if client_no:
        logins.append(("client", "演示客户", "client", {"client_no": client_no}))
    created = {}
    for username, display, role, link in logins:
        if db.session.scalar(select(User.id).where(User.username == username)) is None:
            create_user(username, display, role, DEMO_PASSWORD, **link)
            created[username] = role
    record("demo.seed", "database", None, after={"clients": plan.clients, "managers": len(managers),
                                                 "teams": len(teams), "seed": plan.seed})
    db.session.flush()
    return {"logins": created, "password": DEMO_PASSWORD, "teams": len(teams), "managers": len(managers),
            "clients": plan.clients}


def _copy_clients(rows: Iterable[tuple], progress: Callable[[int], None] | None) -> None:
    """COPY the client rows through the session's own connection, so they commit with everything else."""
    connection = db.session.connection().connection.driver_connection
    columns = ", ".join(CLIENT_COLUMNS + ("created_at",))
    created_at = utcnow()
    done = 0
    with connection.cursor() as cursor:
        with cursor.copy(f"COPY clients ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row + (created_at,))
                done += 1
                if progress and done % 10000 == 0:
                    progress(10000)
    if progress and done % 10000:
        progress(done % 10000)
