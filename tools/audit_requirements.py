"""Known-vulnerability check of every pinned requirement, against PyPI's vulnerability data (the OSV feed).

pip-audit asks PyPI for each pinned release (`/pypi/NAME/VERSION/json`). Where that answers, this
script uses the same data; where the index in front of PyPI only serves the project document
(`/pypi/NAME/json`, whose `vulnerabilities` describe the latest release), a requirement pinned to the
latest release is audited from it, and one pinned to an older release cannot be audited and fails:
upgrade the pin, or audit it elsewhere. Exit status 1 on any known vulnerability or unaudited pin.

    python tools/audit_requirements.py requirements.txt requirements-dev.txt requirements-bench.txt
"""
from __future__ import annotations

import json
import re
import sys
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

PYPI = "https://pypi.org/pypi"
PIN = re.compile(r"^\s*([A-Za-z0-9_.\-]+)(\[[^\]]*\])?\s*==\s*([A-Za-z0-9_.\-+!]+)")


def pins(files: list[str]) -> dict[str, str]:
    """name → pinned version from `name==version` lines (following `-r` includes)."""
    found: dict[str, str] = {}
    for name in files:
        path = Path(name)
        for line in path.read_text(encoding="utf-8").splitlines():
            line = line.split("#", 1)[0].strip()
            if line.startswith("-r "):
                found.update(pins([str(path.parent / line[3:].strip())]))
            elif match := PIN.match(line):
                found[match.group(1).lower()] = match.group(3)
    return found


def _get(url: str) -> dict | None:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 (https only, fixed host)
            return json.load(response)
    except urllib.error.HTTPError as error:
        if error.code == 404:
            return None
        raise


def audit(name: str, version: str) -> tuple[str, str, list]:
    """(name, verdict, vulnerabilities): verdict is 'ok', 'vulnerable' or 'unaudited: …'."""
    release = _get(f"{PYPI}/{name}/{version}/json")
    if release is not None:
        vulns = release.get("vulnerabilities") or []
        return name, "vulnerable" if vulns else "ok", vulns
    project = _get(f"{PYPI}/{name}/json")
    if project is None:
        return name, "unaudited: not on PyPI", []
    latest = project["info"]["version"]
    if latest != version:
        return name, f"unaudited: pinned {version}, latest {latest}; the index serves data for the latest only", []
    vulns = project.get("vulnerabilities") or []
    return name, "vulnerable" if vulns else "ok", vulns


def main(files: list[str]) -> int:
    pinned = pins(files or ["requirements.txt"])
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda item: audit(*item), sorted(pinned.items())))
    failed = 0
    for name, verdict, vulns in results:
        print(f"{name:<24} {pinned[name]:<12} {verdict}")
        for vuln in vulns:
            print(f"    {vuln.get('id')}: fixed in {', '.join(vuln.get('fixed_in') or []) or '—'}")
        failed += verdict != "ok"
    print(f"{len(results)} pinned requirements audited, {failed} failing")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
