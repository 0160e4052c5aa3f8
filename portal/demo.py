"""Synthetic but plausible demo data, written in bulk (COPY on PostgreSQL, executemany on SQLite).

Chinese names with their pinyin, resident ID numbers with valid check digits, ages and dates that
fit together, teams of 5–12 managers under a supervisor each, books of uneven size.
"""
from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from operator import itemgetter, mul

from sqlalchemy import func, insert, select, text

from models import Branch, Client, Manager, QuestionnaireVersion, Team, User, db, utcnow
from portal import bulk
from portal.audit import record
from portal.rules.calendar import add_months
from portal.rules.vocabulary import LEVELS

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
# Each branch's record: code, English name, city (its Chinese name and stem are above).
BRANCH_RECORDS = {
    "北京建国门营业部": ("BJ01", "Beijing Jianguomen Branch", "北京"),
    "上海浦东新区营业部": ("SH01", "Shanghai Pudong New Area Branch", "上海"),
    "深圳福田营业部": ("SZ01", "Shenzhen Futian Branch", "深圳"),
    "广州天河营业部": ("GZ01", "Guangzhou Tianhe Branch", "广州"),
    "杭州西湖营业部": ("HZ01", "Hangzhou Xihu Branch", "杭州"),
    "成都高新营业部": ("CD01", "Chengdu Hi-tech Zone Branch", "成都"),
    "武汉江汉营业部": ("WH01", "Wuhan Jianghan Branch", "武汉"),
    "南京鼓楼营业部": ("NJ01", "Nanjing Gulou Branch", "南京"),
}
TEAM_WORDS = ["财富管理一组", "财富管理二组", "机构服务组", "高净值客户组", "零售客户组", "综合金融组"]
BRANCH_IDS = {name: position for position, name in enumerate(BRANCH_RECORDS, start=1)}
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"
DEMO_PASSWORD = "demo-password-2026"


def resident_id(region: str, birth: date, sequence: int) -> str:
    """An 18-digit resident ID number with its GB 11643 check character."""
    body = f"{region}{birth:%Y%m%d}{sequence % 1000:03d}"
    total = sum(map(mul, map(int, body), ID_WEIGHTS))
    return body + ID_CHECK[total % 11]


def person_name(rng: random.Random) -> tuple[str, str]:
    draw = rng.random
    surname, surname_py = SURNAMES[int(draw() * len(SURNAMES))]
    parts = [GIVEN[int(draw() * len(GIVEN))] for _ in range(1 if draw() < 1 / 3 else 2)]
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


def _birth_date(rng: random.Random, today: date) -> date:
    """A birth date giving an age of 18–88 today; investors skew middle-aged, with a tail past 65."""
    age = min(max(int(rng.gauss(46, 13)), 18), 88)
    latest = add_months(today, -12 * age)  # turned `age` today at the latest
    earliest = add_months(today, -12 * (age + 1)) + timedelta(days=1)
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
                "branch": branch, "branch_id": BRANCH_IDS[branch]}
        members = []
        for position in range(size + 1):  # position 0 is the supervisor
            if position == 0:
                level = rng.choice(("senior", "principal"))
            elif team_no == 1 and position <= len(LEVELS):
                level = LEVELS[position - 1]  # the first team shows every level of the ladder
            else:
                level = rng.choices(LEVELS, weights=(40, 32, 20, 8))[0]
            years = {"junior": (0, 3), "mid": (2, 8), "senior": (5, 15), "principal": (8, 22)}[level]
            hire = today - timedelta(days=rng.randint(years[0] * 365 + 30, years[1] * 365 + 200))
            level_since = _random_date(rng, hire, today - timedelta(days=20))
            if level == "junior":
                level_since = hire
            status = "active" if position == 0 else rng.choices(("active", "on_leave", "left"), weights=(94, 4, 2))[0]
            name, pinyin = person_name(rng)
            row = {"id": next_id, "employee_no": f"E{next_id:06d}", "name": name, "name_pinyin": pinyin,
                   "level": level, "level_since": level_since, "hire_date": hire, "status": status,
                   "team_id": team_no, "branch_id": team["branch_id"]}
            members.append(row)
            next_id += 1
        team["supervisor_id"] = members[0]["id"]
        teams.append(team)
        managers.extend(members)
    return teams, managers


def client_rows(plan: DemoPlan, rng: random.Random, teams: list[dict], managers: list[dict]) -> Iterable[dict]:
    """Yield client rows; books follow a heavy-tailed size distribution."""
    supervisors = {t["supervisor_id"] for t in teams}
    branch_of_team = {t["id"]: t["branch"] for t in teams}
    id_of_branch = {t["branch"]: t["branch_id"] for t in teams}
    region_of_branch = {b: r for b, r, _s in BRANCHES}
    book_holders = [m for m in managers if m["id"] not in supervisors and m["status"] != "left"]
    weights = [rng.paretovariate(1.6) * (1.5 if m["level"] in ("senior", "principal") else 1.0) for m in book_holders]
    chosen = rng.choices(book_holders, weights=weights, k=plan.clients)
    today = plan.today
    for i, manager in enumerate(chosen, start=1):
        name, pinyin = person_name(rng)
        birth = _birth_date(rng, today)
        branch = branch_of_team[manager["team_id"]]
        adult = add_months(birth, 12 * 18)
        opened = _random_date(rng, max(adult, date(2003, 1, 1)), today - timedelta(days=1))
        phone = f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}"
        id_number = resident_id(region_of_branch[branch], birth, rng.randrange(1000))
        yield {"id": i, "client_no": f"C{i:09d}", "name": name, "name_pinyin": pinyin, "birth_date": birth,
               "id_type": "resident_id", "id_number": id_number, "phone": phone, "branch_id": id_of_branch[branch],
               "opened_on": opened, "manager_id": manager["id"], "sex": "M" if int(id_number[16]) % 2 else "F"}


class ProfileHistory:
    """Plausible questionnaire history: a pool of scored answer sets, drawn per client by age.

    Most clients have a profile; some have let it expire, some are about to, some never answered.
    Scoring a few hundred answer sets and reusing them keeps a million clients fast.
    """

    def __init__(self, rng: random.Random, version: dict | None, today: date):
        from portal.rules import questionnaire as rules

        self.rng, self.today, self.version = rng, today, version
        self.pool: dict[str, list[tuple[str, object]]] = {}
        if version is None:
            return
        definition = rules.load_definition(version["definition"])
        age_question = next(q for q in definition.questions if q.group == "age")
        self.age_question = age_question
        for age_option in age_question.options:
            entries = []
            for _ in range(60):
                tilt = rng.random()  # each synthetic investor leans cautious or bold throughout
                answers = {}
                for question in definition.questions:
                    if question.id == age_question.id:
                        answers[question.id] = age_option.id
                        continue
                    n = len(question.options)
                    index = min(int(rng.betavariate(1 + 3 * tilt, 1 + 3 * (1 - tilt)) * n), n - 1)
                    answers[question.id] = question.options[index].id
                scored = rules.score(definition, answers)
                # Everything an assessment row needs from this answer set, serialised once.
                entries.append((json.dumps(answers, ensure_ascii=False), scored, (
                    json.dumps({g: list(p) for g, p in scored.group_points.items()}), scored.raw_points,
                    scored.score, scored.band_grade, scored.grade, scored.risk_class, scored.lowest_category,
                    json.dumps(list(scored.caps_applied)), json.dumps(list(scored.flags)))))
            self.pool[age_option.id] = entries
        self._age_bounds = self._age_option_bounds(age_question)

    @staticmethod
    def _age_option_bounds(question) -> list[tuple[int, str]]:
        """(minimum age, option id) from the English option texts, e.g. '36 to 45', '65 and over'."""
        bounds = []
        for option in question.options:
            digits = [int(part) for part in option.text.en.replace("+", " ").split() if part.isdigit()]
            bounds.append((digits[0] if digits else 0, option.id))
        return sorted(bounds)

    def _age_option(self, birth: date) -> str:
        age = self.today.year - birth.year - ((self.today.month, self.today.day) < (birth.month, birth.day))
        chosen = self._age_bounds[0][1]
        for minimum, option_id in self._age_bounds:
            if age >= minimum:
                chosen = option_id
        return chosen

    def for_client(self, client: dict) -> list[tuple[date, str, object, tuple, bool]]:
        """Assessments as (effective date, answers JSON, result, row fields, assisted), oldest first."""
        if self.version is None or self.rng.random() < 0.12:
            return []
        months_ago = self.rng.uniform(0, 30)  # beyond 24 months: expired
        latest = self.today - timedelta(days=int(months_ago * 30.4))
        dates = [latest]
        if self.rng.random() < 0.3:
            dates.insert(0, latest - timedelta(days=int(self.rng.uniform(13, 30) * 30.4)))
        entries = self.pool[self._age_option(client["birth_date"])]
        result = []
        for day in dates:
            if day < client["opened_on"]:
                continue
            answers, scored, fields = self.rng.choice(entries)
            result.append((day, answers, scored, fields, self.rng.random() < 0.15))
        return result


ASSESSMENT_COLUMNS = ("id", "client_id", "version_id", "answers", "group_points", "raw_points", "score", "band_grade",
                      "grade", "risk_class", "lowest_category", "caps", "flags", "channel", "entered_by_id",
                      "submission_token", "submitted_at")
PROFILE_COLUMNS = ("id", "client_id", "assessment_id", "effective_at", "effective_on", "valid_until", "score",
                   "grade", "risk_class", "lowest_category")
CONFIRMATION_COLUMNS = ("id", "assessment_id", "method", "paper_reference", "confirmed_by_id", "confirmed_at")
CLIENT_COLUMNS = ("id", "client_no", "name", "name_pinyin", "birth_date", "id_type", "id_number", "phone",
                  "branch_id", "opened_on", "manager_id", "sex", "created_at", "profile_id", "risk_score", "risk_grade",
                  "risk_class", "lowest_category", "profile_valid_until", "investor_category", "followup_grade",
                  "followup_due", "profile_effective_on")
FOLLOWUP_COLUMNS = ("id", "client_id", "logged_on", "channel", "note", "grade", "next_due", "logged_by_id",
                    "created_at")


class FollowupHistory:
    """Follow-up grades and due dates for every client, and a short log for about a fifth of them.

    The spread a manager meets on Monday morning: most clients graded C-E, a few A/B, about a quarter
    overdue, some due today or this week.
    """

    GRADE_WEIGHTS = (("A", 3), ("B", 10), ("C", 27), ("D", 40), ("E", 20))
    CHANNELS = ("phone", "phone", "phone", "wechat", "wechat", "visit", "email", "meeting")
    NOTES = ("电话回访，客户关注新发基金", "微信发送产品资料", "面谈资产配置方案", "客户暂无需求，保持联系",
             "邀请参加投资策略会", "跟进两融开户意向", "客户出差，约下周再联系", None, None)

    def __init__(self, rng: random.Random, today: date):
        from portal.rules.followup import next_due

        self.rng, self.today, self.next_due = rng, today, next_due
        # Draws from expanded pools and precomputed dates: a million clients must stay cheap.
        self.grade_pool = [g for g, w in self.GRADE_WEIGHTS for _ in range(w)]
        self.step = {g: timedelta(days=(next_due(g, today) - today).days) for g, _w in self.GRADE_WEIGHTS}
        self.overdue_days = [today - timedelta(days=d) for d in range(1, 46)]
        self.week_days = [today + timedelta(days=d) for d in range(1, 8)]
        self.later_days = {g: [today + timedelta(days=d) for d in range(8, max(step.days, 8) + 1)]
                           for g, step in self.step.items()}

    def _due(self, grade: str, day: date) -> date:
        return self.next_due(grade, day) if grade == "E" else day + self.step[grade]

    def for_client(self, client: dict) -> tuple[str | None, date | None, list[tuple]]:
        """(grade, due date, [(logged_on, channel, note, grade, next_due), ...] oldest first)."""
        random_ = self.rng.random
        roll = random_()
        if roll < 0.08:
            return None, None, []  # not graded yet
        grade = self.grade_pool[int(random_() * len(self.grade_pool))]
        roll = random_()
        if roll < 0.25:
            due = self.overdue_days[int(random_() * 45)]
        elif roll < 0.31:
            due = self.today
        elif roll < 0.5:
            due = self.week_days[int(random_() * 7)]
        else:
            later = self.later_days[grade]
            due = later[int(random_() * len(later))]
        if random_() >= 0.2:
            return grade, due, []
        last = due - self.step[grade]
        if last < client["opened_on"] or last > self.today:
            return grade, due, []
        entries = [(last, grade)]
        if random_() < 0.4:  # an earlier contact too
            earlier_grade = self.grade_pool[int(random_() * len(self.grade_pool))]
            earlier = last - self.step[earlier_grade] - timedelta(days=int(random_() * 10))
            if earlier >= client["opened_on"]:
                entries.insert(0, (earlier, earlier_grade))
        channels, notes = self.CHANNELS, self.NOTES
        logs = [(day, channels[int(random_() * len(channels))], notes[int(random_() * len(notes))], g,
                 self._due(g, day)) for day, g in entries]
        return grade, logs[-1][4], logs


def _at_noon_china(day: date) -> datetime:
    """A business date's midday in China, stored in UTC (04:00Z)."""
    return datetime(day.year, day.month, day.day, 4, 0, tzinfo=UTC)


def _batches(clients: Iterable[dict], history: ProfileHistory, size: int = 20000,
             followups: FollowupHistory | None = None):
    """Rows for clients and their suitability records, a batch at a time (bounded memory)."""

    created_at = utcnow()
    version_id = history.version["id"] if history.version else None
    validity = history.version["validity_months"] if history.version else 24
    tables: dict[str, list[tuple]] = {"clients": [], "risk_assessments": [], "risk_profiles": [],
                                      "assessment_confirmations": [], "followup_logs": []}
    next_id = {"assessment": 1, "profile": 1, "confirmation": 1, "followup": 1}
    for client in clients:
        profile = None
        for day, answers, scored, fields, assisted in history.for_client(client):
            assessment_id = next_id["assessment"]
            next_id["assessment"] += 1
            submitted_at = _at_noon_china(day)
            tables["risk_assessments"].append((assessment_id, client["id"], version_id, answers, *fields,
                                               "assisted" if assisted else "self", None, None, submitted_at))
            if assisted:
                tables["assessment_confirmations"].append((
                    next_id["confirmation"], assessment_id, "paper", f"PF-{day:%Y%m%d}-{client['id']:07d}", None,
                    submitted_at))
                next_id["confirmation"] += 1
            profile = (next_id["profile"], client["id"], assessment_id, submitted_at, day, add_months(day, validity),
                       scored.score, scored.grade, scored.risk_class, scored.lowest_category)
            tables["risk_profiles"].append(profile)
            next_id["profile"] += 1
        tables["clients"].append(_client_fields(client) + (
            created_at,
            profile[0] if profile else None, profile[6] if profile else None, profile[7] if profile else None,
            profile[8] if profile else None, profile[9] if profile else False, profile[5] if profile else None,
            "ordinary", *_followups_of(client, followups, tables["followup_logs"], next_id, created_at),
            profile[4] if profile else None))
        if len(tables["clients"]) >= size:
            yield tables
            tables = {name: [] for name in tables}
    if tables["clients"]:
        yield tables


_client_fields = itemgetter(*CLIENT_COLUMNS[:12])


def _followups_of(client: dict, followups: FollowupHistory | None, rows: list, next_id: dict,
                  created_at: datetime) -> tuple:
    """The client's (grade, due date); its log rows are appended to `rows`."""
    if followups is None:
        return None, None
    grade, due, logs = followups.for_client(client)
    for logged_on, channel, note, log_grade, log_due in logs:
        rows.append((next_id["followup"], client["id"], logged_on, channel, note, log_grade, log_due, None,
                     created_at))
        next_id["followup"] += 1
    return grade, due

COLUMNS_OF = {"clients": CLIENT_COLUMNS, "risk_assessments": ASSESSMENT_COLUMNS, "risk_profiles": PROFILE_COLUMNS,
              "assessment_confirmations": CONFIRMATION_COLUMNS, "followup_logs": FOLLOWUP_COLUMNS}


def database_is_empty() -> bool:
    clients = db.session.scalar(select(func.count(Client.id)))
    return not clients and not db.session.scalar(select(func.count(Manager.id)))


def seed(plan: DemoPlan, progress: Callable[[int], None] | None = None) -> dict:
    """Fill an empty database; returns the demo logins. One transaction: all of it, or none."""
    from portal.operations.users import create_user

    rng = random.Random(plan.seed)
    teams, managers = build_staff(plan, rng)
    db.session.execute(insert(Branch.__table__), [
        {"id": BRANCH_IDS[name], "code": code, "name": name, "name_en": name_en, "city": city}
        for name, (code, name_en, city) in BRANCH_RECORDS.items()])
    db.session.execute(insert(Team.__table__), [{k: t[k] for k in ("id", "code", "name", "branch_id")} for t in teams])
    db.session.execute(insert(Manager.__table__), managers)
    db.session.execute(
        Team.__table__.update().where(Team.__table__.c.id == db.bindparam("tid"))
        .values(supervisor_id=db.bindparam("sid")),
        [{"tid": t["id"], "sid": t["supervisor_id"]} for t in teams],
    )
    version = db.session.execute(
        select(QuestionnaireVersion.id, QuestionnaireVersion.definition, QuestionnaireVersion.validity_months)
        .where(QuestionnaireVersion.status == "active")).mappings().first()
    history = ProfileHistory(random.Random(plan.seed + 1), dict(version) if version else None, plan.today)
    postgres = db.engine.dialect.name == "postgresql"
    deferred = _drop_secondary_indexes(tuple(COLUMNS_OF)) if postgres else []
    if postgres and db.session.execute(text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")).scalar():
        # The rows are generated consistent; skipping the per-row foreign-key triggers halves the load.
        # Only a superuser may do this (a development or benchmark database); it ends with the transaction.
        db.session.execute(text("SET LOCAL session_replication_role = replica"))
    followups = FollowupHistory(random.Random(plan.seed + 2), plan.today)
    for tables in _batches(client_rows(plan, rng, teams, managers), history, followups=followups):
        for table in COLUMNS_OF:
            bulk.write_rows(table, COLUMNS_OF[table], tables[table])
        if progress:
            progress(len(tables["clients"]))
    if postgres:
        db.session.execute(text("SET LOCAL session_replication_role = origin"))
    from portal.demo_assets import seed_assets

    seed_assets(plan.seed, plan.today)  # before the clients' indexes are rebuilt: its UPDATE of clients stays cheap
    for definition in deferred:  # one sort per index instead of a million incremental inserts
        db.session.execute(text(definition))
    if db.engine.dialect.name == "postgresql":
        for table in ("branches", "teams", "managers", "clients", *COLUMNS_OF):
            db.session.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # nosec B608 - table names from the fixed tuple above
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
    from portal.demo_suitability import seed_suitability

    seed_suitability(plan.seed, plan.today)
    from portal.demo_evaluations import seed_evaluations

    seed_evaluations(plan.seed, plan.today)
    record("demo.seed", "database", None, after={"clients": plan.clients, "managers": len(managers),
                                                 "teams": len(teams), "seed": plan.seed})
    db.session.flush()
    return {"logins": created, "password": DEMO_PASSWORD, "teams": len(teams), "managers": len(managers),
            "clients": plan.clients}


def _drop_secondary_indexes(tables: tuple[str, ...]) -> list[str]:
    """Drop the plain (non-unique, non-key) indexes of empty tables; returns the statements that rebuild them."""
    rows = db.session.execute(text(
        "SELECT i.indexname, i.indexdef FROM pg_indexes i "
        "JOIN pg_class c ON c.relname = i.indexname JOIN pg_index x ON x.indexrelid = c.oid "
        "WHERE i.schemaname = current_schema() AND i.tablename = ANY(:tables) AND NOT x.indisunique"
    ), {"tables": list(tables)}).all()
    for name, _definition in rows:
        db.session.execute(text(f'DROP INDEX "{name}"'))
    return [definition for _name, definition in rows]
