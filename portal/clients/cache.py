"""Rendered client-book bodies, kept per process and served again while nothing they show has changed.

A manager pages, sorts and comes back to their book all day; between two views of the same page its rows
rarely change. What a book page shows comes from the `clients` rows of the book (every column the book
and its grid show is a copy on the client row), the twelve package cells with the packages' names, the
business day, the manager's name and number, the reader (their scope) and their language. The database
keeps a version per book (`book_versions`, migration 0008): triggers move it in the transaction that
inserts, updates or deletes a client of the book — from any page, the API, an import or bulk SQL — and
row 0 whenever a package or a cell changes. A body is kept under a key made of all of these, so a kept
body is served only while none of them has changed; the version is read before the rows are, so a
body is never kept under a newer version than its rows.

Kept per process (gunicorn workers each have their own), least recently used first out, at most
BOOK_CACHE_ENTRIES bodies (0 turns it off). Nothing is shared between readers: the reader's id is part of
the key.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable

from flask import current_app
from sqlalchemy import text

from portal.replica import report_connection


class BodyCache:
    """A bounded least-recently-used map of rendered bodies; safe across threads."""

    def __init__(self, entries: int) -> None:
        self.entries = entries
        self._bodies: OrderedDict[Hashable, str] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0  # bodies served from the cache (read by the tests)

    def get_or_render(self, key: Hashable, render: Callable[[], str]) -> str:
        if self.entries <= 0:
            return render()
        with self._lock:
            body = self._bodies.get(key)
            if body is not None:
                self._bodies.move_to_end(key)
                self.hits += 1
                return body
        body = render()
        with self._lock:
            self._bodies[key] = body
            self._bodies.move_to_end(key)
            while len(self._bodies) > self.entries:
                self._bodies.popitem(last=False)
        return body

    def clear(self) -> None:
        with self._lock:
            self._bodies.clear()


def cache() -> BodyCache:
    """This app's cache (one per app, so tests' apps never share bodies)."""
    extensions = current_app.extensions
    found = extensions.get("book_cache")
    if found is None:
        found = extensions["book_cache"] = BodyCache(int(current_app.config["BOOK_CACHE_ENTRIES"]))
    return found


def versions(manager_id: int) -> tuple[int, int]:
    """(the book's version, the packages' version), read where the book's grid is read, before any row."""
    row = report_connection().execute(
        text("SELECT COALESCE(max(version) FILTER (WHERE manager_id = :manager), 0), "
             "COALESCE(max(version) FILTER (WHERE manager_id = 0), 0) "
             "FROM book_versions WHERE manager_id IN (:manager, 0)"), {"manager": manager_id}).one()
    return int(row[0]), int(row[1])
