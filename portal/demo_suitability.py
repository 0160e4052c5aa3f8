"""Demo product catalogue (R1–R5, the kinds a Chinese broker sells) and a few suitability records.

The records go through the real operation, so they carry real checks: the demo manager's clients get
recommendations within and above their grades, one refused for a missing profile, one warning confirmed
on a signed paper form; the demo client gets a warning to confirm on their own login.
"""
from __future__ import annotations

import random
from datetime import date

from sqlalchemy import select

from models import Client, Product, User, db
from portal.operations import suitability as ops
from portal.operations.errors import OperationError

# code, Chinese name, English name, kind, risk level, offered
CATALOGUE = [
    ("JT-MMF01", "玖天现金宝货币市场基金A", "Jiutian Cash Treasure Money-Market Fund A", "money_market_fund", 1, True),
    ("JT-MMF02", "玖天天天利货币市场基金B", "Jiutian Daily Income Money-Market Fund B", "money_market_fund", 1, True),
    ("JT-BD001", "玖天纯债债券型证券投资基金A", "Jiutian Pure Bond Fund A", "bond_fund", 2, True),
    ("JT-BD006", "玖天短债6个月持有期债券型基金", "Jiutian Short-Term Bond 6-Month Holding Fund", "bond_fund", 2, True),
    ("JT-PPN182", "玖天安盈182天本金保障型收益凭证", "Jiutian Anying 182-Day Principal-Protected Note",
     "structured_note", 2, True),
    ("JT-BD-OLD", "玖天添利纯债债券基金（已清盘）", "Jiutian Tianli Pure Bond Fund (liquidated)", "bond_fund", 2,
     False),
    ("JT-HY001", "玖天平衡配置混合型证券投资基金", "Jiutian Balanced Allocation Hybrid Fund", "hybrid_fund", 3, True),
    ("JT-BD2X", "玖天双债增强债券型基金（二级债基）", "Jiutian Enhanced Bond Fund (with equities)", "bond_fund", 3,
     True),
    ("JT-FOF01", "玖天稳健养老目标一年持有期混合型FOF", "Jiutian Target-Risk Pension 1-Year Hybrid FOF",
     "hybrid_fund", 3, True),
    ("JT-EQ001", "玖天新兴产业股票型证券投资基金", "Jiutian Emerging Industries Equity Fund", "equity_fund", 4, True),
    ("JT-IX300", "玖天沪深300指数增强型基金", "Jiutian CSI 300 Enhanced Index Fund", "index_fund", 4, True),
    ("JT-CAM01", "玖天金选1号集合资产管理计划", "Jiutian Golden Selection No. 1 Collective Asset-Management Plan",
     "collective_plan", 4, True),
    ("JT-SNOW500", "玖天雪球结构化收益凭证（挂钩中证500指数）", "Jiutian Snowball Note linked to the CSI 500",
     "structured_note", 5, True),
    ("JT-OPT300", "玖天看涨期权挂钩收益凭证（非保本，挂钩沪深300）",
     "Jiutian Call-Option-Linked Note, not principal-protected (CSI 300)", "structured_note", 5, True),
    ("JT-PF-QH1", "玖天量化对冲1号私募证券投资基金", "Jiutian Quant Hedge No. 1 Private Securities Fund",
     "private_fund", 5, True),
    ("JT-CAM-DZ", "玖天定增精选集合资产管理计划", "Jiutian Private Placement Selection Collective Plan",
     "collective_plan", 5, True),
]


def seed_products() -> dict[str, Product]:
    """Add the demo catalogue (products already present are left as they are)."""
    existing = {p.code: p for p in db.session.scalars(select(Product))}
    for code, name_zh, name_en, kind, level, offered in CATALOGUE:
        if code in existing:
            continue
        product = ops.create_product(code, name_zh, name_en, kind, level)
        if not offered:
            ops.set_product_active(product, False)
        existing[code] = product
    return existing


def _record(client: Client, product: Product, user, today: date, rng: random.Random, action: str | None = None):
    """Record through the operation, giving the extra-care explanation where it is asked for."""
    action = action or rng.choice(("recommendation", "subscription"))
    amount = None if action == "recommendation" else str(rng.choice((10000, 50000, 100000, 300000, 1000000)))
    try:
        return ops.record_suitability(client, product, action=action, amount=amount, note=None,
                                      extra_care_given=True, by_user=user, today=today)
    except OperationError:  # e.g. a client born after `today` in a hand-made database: skipped
        return None


def seed_suitability(seed: int, today: date) -> dict:
    """The catalogue, and records for the demo manager's book and the demo client; returns counts."""
    rng = random.Random(seed + 7)
    products = seed_products()
    offered = [p for p in products.values() if p.active]
    by_level = {level: [p for p in offered if p.risk_level == level] for level in range(1, 6)}
    rm_user = db.session.scalar(select(User).where(User.username == "rm", User.role == "rm"))
    client_user = db.session.scalar(select(User).where(User.username == "client", User.role == "client"))
    made = 0
    if rm_user is not None and rm_user.manager_id is not None:
        # Mostly clients with a valid profile (the usual case), and two without (refused outright).
        mine = select(Client).where(Client.manager_id == rm_user.manager_id,
                                    Client.id != ((client_user.client_id if client_user else None) or -1))
        valid = Client.profile_valid_until >= today
        book = list(db.session.scalars(mine.where(valid).order_by(Client.id).limit(8)))
        book += list(db.session.scalars(mine.where(~valid | Client.profile_valid_until.is_(None))
                                        .order_by(Client.id).limit(2)))
        for n, client in enumerate(book):
            grade = int(client.risk_grade[1]) if client.risk_grade else 3
            # within the grade, one above it, and now and then the riskiest shelf
            level = [grade, min(grade + 1, 5), 5, 1][n % 4]
            entry = _record(client, rng.choice(by_level[level]), rm_user, today, rng)
            made += entry is not None
            if entry is not None and entry.outcome == "warning" and n % 3 == 0:
                ops.confirm_warning(entry, client, rm_user, method="paper",
                                    paper_reference=f"FXJS-{today:%Y%m%d}-{entry.id:04d}", today=today)
    if client_user is not None and client_user.client_id is not None and rm_user is not None:
        client = db.session.get(Client, client_user.client_id)
        profile = ops.profile_as_of(client, today)
        if profile is not None and not profile.lowest_category and profile.grade != "C5":
            level = int(profile.grade[1]) + 1  # one above the client's grade: a warning to confirm
        else:
            level = 3  # refused without a valid profile or in the lowest category (a C5 client takes it)
        made += _record(client, rng.choice(by_level[level]), rm_user, today, rng, "subscription") is not None
        made += _record(client, by_level[1][0], rm_user, today, rng, "recommendation") is not None
    db.session.flush()
    return {"products": len(products), "records": made}
