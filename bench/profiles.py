"""`profile_as_of` for 1,000 random clients at 1,000,000 clients, against a primary-key lookup."""
from __future__ import annotations

import os
import random
import time
from datetime import timedelta


def run(report, url: str, lookups: int = 1000) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("PORTAL_ENV", "development")
    from sqlalchemy import func, select

    from models import Client, db
    from portal import create_app
    from portal.operations.risk import profile_as_of
    from portal.rules.calendar import business_today

    app = create_app({"DATABASE_URL": url, "PORTAL_ENV": "development"})
    with app.app_context():
        top = db.session.scalar(select(func.max(Client.id)))
        rng = random.Random(7)
        ids = [rng.randint(1, top) for _ in range(lookups)]
        days = [business_today() - timedelta(days=rng.randint(0, 900)) for _ in ids]

        def reference():
            for client_id in ids:
                db.session.execute(select(Client.id, Client.client_no).where(Client.id == client_id)).first()

        def as_of():
            found = 0
            for client_id, day in zip(ids, days):
                found += profile_as_of(client_id, day) is not None
            return found

        reference()
        as_of()  # warm both
        start = time.perf_counter()
        reference()
        ref_seconds = time.perf_counter() - start
        start = time.perf_counter()
        found = as_of()
        as_of_seconds = time.perf_counter() - start
        db.session.rollback()
    report("profile_as_of_ms", round(as_of_seconds * 1000, 1),
           f"profile_as_of for {lookups:,} random clients and dates ({found} had one)")
    report("pk_lookup_ms", round(ref_seconds * 1000, 1), f"reference: {lookups:,} primary-key lookups of clients")
    report("profile_as_of_ratio", round(as_of_seconds / ref_seconds, 2), "profile_as_of / primary-key lookup")
