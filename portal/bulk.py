"""Bulk writes: many rows into one table through the session's own connection, so they commit with the rest.

PostgreSQL: `COPY … FROM STDIN` in text format, each line built here in one pass (several times faster
than a driver formatting row by row). SQLite: `executemany` — through the model's typed insert for a
model's table (its JSON columns arrive as JSON text and are decoded for the JSON type), through the
driver for a temporary staging table (dates as ISO text).

Two forms: `write_rows` for a list already in hand (demo data, the promotion engine), and `writer` for
rows that arrive one at a time (the imports' readers), written a batch at a time.
"""
from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import insert

from models import db

BATCH = 5_000
NULL = "\\N"


def copy_value(value: Any) -> str:
    """One value in COPY's text format: `\\N` for NULL, backslash, tab and line breaks escaped."""
    if value is None:
        return NULL
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, (int, Decimal)):
        return str(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    text_value = str(value)
    # str.replace only where needed: str.translate with a mapping is far slower on long JSON texts.
    if "\\" in text_value:
        text_value = text_value.replace("\\", "\\\\")
    if "\t" in text_value or "\n" in text_value or "\r" in text_value:
        text_value = text_value.replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return text_value


def copy_line(row: Sequence[Any]) -> str:
    """One row as a line of COPY's text format."""
    return "\t".join(map(copy_value, row)) + "\n"


def _postgres() -> bool:
    return db.engine.dialect.name == "postgresql"


def _driver_connection():
    return db.session.connection().connection.driver_connection


def copy_lines(table: str, columns: Sequence[str], lines: Iterable[str]) -> None:
    """PostgreSQL: COPY lines already in COPY's text format (see `copy_line`), a batch per write."""
    with _driver_connection().cursor() as cursor:
        with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            batch: list[str] = []
            for line in lines:
                batch.append(line)
                if len(batch) >= BATCH:
                    copy.write("".join(batch))
                    batch.clear()
            if batch:
                copy.write("".join(batch))


def _sqlite_insert(table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    model_table = db.metadata.tables.get(table)
    if model_table is None:  # a temporary staging table: the driver's executemany
        statement = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"  # nosec B608 - table and column names are the callers' constants; values are bound
        _driver_connection().executemany(
            statement, [tuple(v.isoformat() if isinstance(v, date) else v for v in row) for row in rows])
        return
    json_columns = {c.name for c in model_table.columns if c.type.__class__.__name__ == "JSON"} & set(columns)
    batch = []
    for row in rows:
        values = dict(zip(columns, row))
        for name in json_columns:
            if isinstance(values[name], str):
                values[name] = json.loads(values[name])
        batch.append(values)
    db.session.execute(insert(model_table), batch)


def write_rows(table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Write a list of rows (each in the order of `columns`): COPY on PostgreSQL, executemany on SQLite."""
    if not rows:
        return
    if _postgres():
        copy_lines(table, columns, map(copy_line, rows))
    else:
        _sqlite_insert(table, columns, rows)


@contextmanager
def writer(table: str, columns: Sequence[str]) -> Iterator[Callable[[Sequence[Any]], None]]:
    """Yields write(row) for rows that arrive one at a time: one COPY on PostgreSQL, held open until the
    block ends (write nothing else on the connection meanwhile); batched executemany on SQLite."""
    batch: list = []
    if _postgres():
        with _driver_connection().cursor() as cursor:
            with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:

                def copy_row(row: Sequence[Any]) -> None:
                    batch.append(copy_line(row))
                    if len(batch) >= BATCH:
                        copy.write("".join(batch))
                        batch.clear()

                yield copy_row
                if batch:
                    copy.write("".join(batch))
        return

    def insert_row(row: Sequence[Any]) -> None:
        batch.append(tuple(row))  # the caller may reuse its list
        if len(batch) >= BATCH:
            _sqlite_insert(table, columns, batch)
            batch.clear()

    yield insert_row
    if batch:
        _sqlite_insert(table, columns, batch)
