"""Backups while the portal runs: SQLite's online backup API, or pg_dump for PostgreSQL."""
from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy.engine import URL


class BackupError(Exception):
    """The backup could not be written; the message says why."""


def backup_database(url: URL, path: str) -> Path:
    """Write a consistent copy of the database at `url` to `path` (never over an existing file)."""
    target = Path(path).resolve()
    if target.exists():
        raise BackupError(f"{target} exists already; choose a new file name.")
    if not target.parent.is_dir():
        raise BackupError(f"The folder {target.parent} does not exist.")
    if url.get_backend_name() == "sqlite":
        return _sqlite_backup(url, target)
    if url.get_backend_name() == "postgresql":
        return _pg_dump(url, target)
    raise BackupError(f"No backup method for {url.get_backend_name()}.")


def _sqlite_backup(url: URL, target: Path) -> Path:
    source_path = url.database
    if not source_path or source_path == ":memory:":
        raise BackupError("An in-memory database cannot be backed up.")
    partial = target.with_name(target.name + ".partial")
    # The online backup copies page by page and restarts if a writer changes the source meanwhile.
    with sqlite3.connect(f"file:{source_path}?mode=ro", uri=True) as source, sqlite3.connect(partial) as copy:
        source.backup(copy, pages=1024)
    check = sqlite3.connect(partial)
    try:
        if check.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            raise BackupError("The copy failed its integrity check; nothing was kept.")
    finally:
        check.close()
    partial.rename(target)
    return target


def _pg_dump(url: URL, target: Path) -> Path:
    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        raise BackupError("pg_dump is not installed on this machine (Debian: apt-get install postgresql-client).")
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = url.password
    command = [pg_dump, "--format=custom", "--no-owner", "--file", str(target),
               "--host", url.host or "localhost", "--port", str(url.port or 5432),
               "--username", url.username or "postgres", url.database or "postgres"]
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        target.unlink(missing_ok=True)
        raise BackupError(f"pg_dump failed: {result.stderr.strip()}")
    return target
