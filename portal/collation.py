"""Sorting people by name as Chinese readers expect: by the stored pinyin, the same on every database.

Code-point order puts 何, 冯, 刘 … in the order of their Unicode numbers, which means nothing to a reader;
the pinyin (`name_pinyin`, e.g. "He Wei") sorts as the alphabet does. The comparison is byte-wise on both
databases (PostgreSQL `COLLATE "C"`, SQLite's default BINARY), so a locale's collation can never make the
two disagree; a row without pinyin sorts by its name after every romanised one.
"""
from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement, FunctionElement, func


class binary(FunctionElement):
    """`expr` compared byte by byte: `expr COLLATE "C"` on PostgreSQL, `expr` (BINARY) elsewhere."""

    name = "binary"
    inherit_cache = True
    type = String()


@compiles(binary)
def _binary_default(element, compiler, **kw):
    return compiler.process(element.clauses, **kw)


@compiles(binary, "postgresql")
def _binary_postgresql(element, compiler, **kw):
    return f'({compiler.process(element.clauses, **kw)}) COLLATE "C"'


def pinyin_key(name: ColumnElement, pinyin: ColumnElement) -> ColumnElement:
    """The sort key of a person's name: lower-case pinyin, else the name itself."""
    return binary(func.lower(func.coalesce(pinyin, name)))


def by_pinyin(name: ColumnElement, pinyin: ColumnElement, descending: bool = False) -> list[ColumnElement]:
    """ORDER BY terms: pinyin, then the characters (homophones such as 张伟 and 章伟), each byte-wise."""
    terms = [pinyin_key(name, pinyin), binary(name)]
    return [term.desc() if descending else term.asc() for term in terms]
