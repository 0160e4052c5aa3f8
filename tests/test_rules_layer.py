"""portal/rules/ is the bottom layer: its modules import the standard library and each other, nothing else."""
from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

RULES = Path(__file__).resolve().parent.parent / "portal" / "rules"


def _imported(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", sorted(RULES.glob("*.py")), ids=lambda p: p.name)
def test_a_rule_imports_only_the_standard_library_and_other_rules(path):
    outside = {name for name in _imported(path)
               if name.split(".")[0] not in sys.stdlib_module_names and not name.startswith("portal.rules")}
    assert not outside, f"{path.name} imports {sorted(outside)}"
