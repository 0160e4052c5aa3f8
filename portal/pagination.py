"""Paging for list pages: the page asked for, bounded, and one query that brings the page and the total."""
from __future__ import annotations

from dataclasses import dataclass
from math import ceil
from typing import Any

from flask import request
from sqlalchemy import Select, func, select

from models import db

MAX_PAGE = 1_000_000


def page_arg() -> int:
    """`?page=` as a number from 1 to MAX_PAGE (anything else reads as the nearest bound, or 1)."""
    page = request.args.get("page", 1, type=int) or 1
    return min(max(page, 1), MAX_PAGE)


@dataclass
class Page:
    """The slice of a list one page shows; the attribute names follow Flask-SQLAlchemy's Pagination."""

    items: list[Any]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(ceil(self.total / self.per_page), 1) if self.total else 0

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def prev_num(self) -> int | None:
        return self.page - 1 if self.has_prev else None

    @property
    def next_num(self) -> int | None:
        return self.page + 1 if self.has_next else None


def paginate(stmt: Select, page: int, per_page: int, rows: bool = False, total: int | None = None) -> Page:
    """A page of `stmt` and the total count, in two indexed queries.

    Items are ORM entities, or with `rows=True` plain named rows run on the Core path (no ORM
    loading machinery: list pages are read-only). A window `count(*) OVER ()` was measured slower:
    it makes the database read the whole filtered set instead of an index-only count plus a LIMIT.
    """
    execute = db.session.connection().execute if rows else db.session.execute
    if total is None:  # a caller that already knows the count (e.g. from a GROUP BY it ran) passes it
        total = execute(select(func.count()).select_from(stmt.order_by(None).subquery())).scalar() or 0
    if total == 0 or (page - 1) * per_page >= total:
        return Page([], page, per_page, total)
    result = execute(stmt.limit(per_page).offset((page - 1) * per_page))
    items = result.all() if rows else list(result.scalars())
    return Page(items, page, per_page, total)
