"""`flask --app app backup PATH`: a consistent copy while the portal runs, never over an existing file."""
from __future__ import annotations

import shutil
import sqlite3
import subprocess

import pytest

from models import db

pytestmark = pytest.mark.commits  # the backup copies the database from outside the test's transaction


def test_backup_copies_the_database(app, make, runner, backend, tmp_path):
    with app.app_context():
        make.team(code="BK1")
        db.session.commit()
    target = tmp_path / "portal.backup"
    result = runner.invoke(args=["backup", str(target)])
    assert result.exit_code == 0, result.output
    assert target.exists() and not (tmp_path / "portal.backup.partial").exists()
    if backend == "sqlite":
        with sqlite3.connect(target) as copy:
            assert copy.execute("SELECT code FROM teams").fetchall() == [("BK1",)]
            # The append-only triggers travel with the copy.
            assert copy.execute("SELECT count(*) FROM sqlite_master WHERE type = 'trigger'").fetchone()[0] > 0
    else:
        if shutil.which("pg_restore") is None:
            pytest.skip("pg_restore is not installed")
        listing = subprocess.run(["pg_restore", "--list", str(target)], capture_output=True, text=True, check=True)
        assert "TABLE DATA public teams" in listing.stdout
        assert "TRIGGER public audit_log" in listing.stdout or "audit_log_append_only" in listing.stdout


def test_backup_refuses_to_overwrite(app, runner, tmp_path):
    target = tmp_path / "exists.db"
    target.write_bytes(b"keep me")
    result = runner.invoke(args=["backup", str(target)])
    assert result.exit_code != 0
    assert "exists already" in result.output
    assert target.read_bytes() == b"keep me"


def test_backup_refuses_a_missing_folder(app, runner, tmp_path):
    result = runner.invoke(args=["backup", str(tmp_path / "no" / "such" / "dir.db")])
    assert result.exit_code != 0
