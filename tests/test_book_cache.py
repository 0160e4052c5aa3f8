"""The client book's rendered bodies are served again only while nothing they show has changed.

The database moves a version per book whenever a client row of the book is inserted, changed, moved or
deleted, and row 0 when a service package or a cell changes (triggers, migration 0008); the per-process
cache (portal/clients/cache.py) keys a body by those versions, the business day, the reader, the language
and the page's arguments. These tests view a book (so that its body is kept), change what it shows by
every kind of path — an operation, bulk SQL, a reassignment, a new or deleted client, a package's name,
the manager's name, the next business day, the reader's language — and require the next view to show
the change. They run on SQLite and PostgreSQL (row triggers there, statement triggers here).
"""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import event, select, text

from models import BookVersion, Client, Manager, ServicePackage, User, db
from portal.clients import cache as book_cache


@pytest.fixture
def book(world, auth, client):
    """rm_a signed in, their book viewed once (kept): returns a function that views it and counts hits."""
    auth.login("rm_a")
    counter = book_cache.cache()

    def view(path: str = "/book") -> tuple[str, bool]:
        hits = counter.hits
        response = client.get(path)
        assert response.status_code == 200
        return response.get_data(as_text=True), counter.hits > hits

    html, hit = view()
    assert not hit and "张三a" in html
    html, hit = view()
    assert hit, "a second view of an unchanged book is served from the cache"
    return view


def _version(manager_id: int) -> int:
    return db.session.scalar(select(BookVersion.version).where(BookVersion.manager_id == manager_id)) or 0


def test_a_cached_body_is_the_body_a_fresh_render_gives(app, world, book):
    cached, hit = book("/book?sort=opened_on&dir=desc")
    cached, hit = book("/book?sort=opened_on&dir=desc")
    assert hit
    book_cache.cache().clear()
    fresh, hit = book("/book?sort=opened_on&dir=desc")
    assert not hit

    def body(html: str) -> str:
        return html[html.index('<h1 class="h3">'):html.index("</main>")]

    assert body(cached) == body(fresh)


def test_an_operation_on_a_client_shows_on_the_next_view(app, world, book):
    from portal.operations.followups import log_followup

    first = world["a"]["clients"][0]
    rm_user = db.session.scalar(select(User).where(User.username == "rm_a"))
    log_followup(db.session.get(Client, first.id), logged_on=date.today() - timedelta(days=1), channel="phone",
                 note="回访", grade="A", by_user=rm_user)
    db.session.commit()
    html, hit = book()
    assert not hit
    due = db.session.get(Client, first.id).followup_due
    assert due is not None and due.isoformat() in html


def test_bulk_sql_on_the_clients_table_shows_on_the_next_view(app, world, book):
    db.session.execute(text("UPDATE clients SET name = name || '改' WHERE client_no IN ('CA0001', 'CA0002')"))
    db.session.commit()
    html, hit = book()
    assert not hit and "张三a改" in html and "李四a改" in html


def test_a_reassigned_client_leaves_one_kept_book_and_joins_the_other(app, world, book, auth, client):
    from portal.operations.clients import reassign_client

    auth.login("rm2_a")
    assert "张三a" not in client.get("/book").get_data(as_text=True)  # rm2_a's book, kept too
    before = (_version(world["a"]["rm"].id), _version(world["a"]["rm2"].id))
    supervisor = db.session.scalar(select(User).where(User.username == "sup_a"))
    reassign_client(db.session.get(Client, world["a"]["clients"][0].id), db.session.get(Manager, world["a"]["rm2"].id),
                    supervisor, "handover")
    db.session.commit()
    after = (_version(world["a"]["rm"].id), _version(world["a"]["rm2"].id))
    assert after[0] > before[0] and after[1] > before[1]  # both books moved
    assert "张三a" in client.get("/book").get_data(as_text=True)
    auth.login("rm_a")
    html, hit = book()
    assert not hit and "张三a" not in html and "李四a" in html


def test_a_new_and_a_deleted_client_show_on_the_next_view(app, world, book, make):
    newcomer = make.client(db.session.get(Manager, world["a"]["rm"].id), client_no="CA0099", name="赵六a")
    db.session.commit()
    html, hit = book()
    assert not hit and "赵六a" in html
    db.session.execute(text("DELETE FROM clients WHERE id = :id"), {"id": newcomer.id})
    db.session.commit()
    html, hit = book()
    assert not hit and "赵六a" not in html


def test_a_package_name_shows_in_every_kept_book(app, world, book):
    zero = _version(0)
    db.session.execute(text("UPDATE clients SET asset_tier = 1, risk_class = 'balanced', risk_grade = 'C3', "
                            "profile_valid_until = :until WHERE client_no = 'CA0001'"),
                       {"until": date.today() + timedelta(days=365)})
    db.session.commit()
    html, _hit = book()
    code = db.session.scalar(text("SELECT package_code FROM package_cells WHERE tier = 1 AND risk_class = 'balanced'"))
    package = db.session.get(ServicePackage, code)
    assert package.name_zh in html or package.name_en in html
    package.name_zh, package.name_en = "鉑金版", "Platinum"
    db.session.commit()
    assert _version(0) > zero
    html, hit = book()
    assert not hit and ("鉑金版" in html or "Platinum" in html)


def test_the_managers_name_the_next_business_day_and_the_language_each_make_a_new_body(app, world, book,
                                                                                       monkeypatch):
    manager = db.session.get(Manager, world["a"]["rm"].id)
    manager.name = "新名字"
    db.session.commit()
    html, hit = book()
    assert not hit and "新名字" in html

    import portal.clients.views as views

    tomorrow = views.business_today() + timedelta(days=1)
    monkeypatch.setattr(views, "business_today", lambda: tomorrow)
    html, hit = book()
    assert not hit
    html, hit = book()
    assert hit

    user = db.session.scalar(select(User).where(User.username == "rm_a"))
    user.preferred_language = "en" if user.preferred_language != "en" else "zh_CN"
    db.session.commit()
    html, hit = book()
    assert not hit


def test_each_reader_gets_their_own_body(app, world, book, auth, client):
    auth.login("sup_a")
    counter = book_cache.cache()
    hits = counter.hits
    response = client.get(f"/managers/{world['a']['rm'].employee_no}/book")
    assert response.status_code == 200 and "张三a" in response.get_data(as_text=True)
    assert counter.hits == hits  # the supervisor's view is rendered for them, not taken from rm_a's
    auth.login("rm_b")
    assert client.get(f"/managers/{world['a']['rm'].employee_no}/book").status_code in (403, 404)


def test_the_version_is_read_before_any_row_of_the_book(app, world, auth, client):
    """A body is never kept under a version newer than its rows: the version comes first."""
    auth.login("rm_a")
    book_cache.cache().clear()
    statements: list[str] = []

    def seen(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        assert client.get("/book").status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    versions = next(i for i, s in enumerate(statements) if "book_versions" in s)
    reads = [i for i, s in enumerate(statements) if "FROM clients" in s]
    assert reads and versions < min(reads)


def test_bulk_statements_move_each_touched_book_once_and_only_those(app, world, backend):
    a, b = world["a"]["rm"].id, world["b"]["rm"].id
    before = {m: _version(m) for m in (a, b)}
    db.session.execute(text("UPDATE clients SET phone = '13900000000' WHERE manager_id = :m"), {"m": a})
    db.session.commit()
    assert _version(a) > before[a] and _version(b) == before[b]
    if backend == "postgresql":  # one statement over two clients of the book: one move
        assert _version(a) == before[a] + 1


def test_the_cache_can_be_turned_off_and_is_bounded(app, world, auth, client):
    auth.login("rm_a")
    counter = book_cache.cache()
    counter.clear()
    entries, counter.entries = counter.entries, 2
    try:
        for path in ("/book", "/book?page=1&sort=client_no", "/book?sort=branch"):
            client.get(path)
        hits = counter.hits
        client.get("/book")  # the oldest of three, with room for two: rendered again
        assert counter.hits == hits
        client.get("/book?sort=branch")
        assert counter.hits == hits + 1
        counter.entries = 0
        client.get("/book?sort=branch")
        assert counter.hits == hits + 1
    finally:
        counter.entries = entries
