"""Reads that may go to the read replica: compliance reports, matrices and exports.

With `DATABASE_REPLICA_URL` set, `report_connection()` is a connection to the replica (a second
engine bind); without it, the primary's connection of the current session. A streaming replica may
lag the primary by a moment; compliance reports are about statistics dates and business days, which
a lag of seconds does not change. Nothing that writes may use it.
"""
from __future__ import annotations

from flask import current_app, g
from sqlalchemy.engine import Connection

from models import db


def has_replica() -> bool:
    """Whether a read replica is configured."""
    return "replica" in current_app.config.get("SQLALCHEMY_BINDS", {})


def report_connection() -> Connection:
    """A connection for a report's reads: the replica's (one per request) when configured, else the primary's."""
    if not has_replica():
        return db.session.connection()
    connection = g.get("_replica_connection")
    if connection is None or connection.closed:
        connection = db.engines["replica"].connect()
        g._replica_connection = connection
    return connection


def close_replica_connection(_exc=None) -> None:
    """teardown: give the replica connection back to its pool."""
    connection = g.pop("_replica_connection", None)
    if connection is not None:
        connection.close()
