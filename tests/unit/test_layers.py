"""The package's layers: the domain imports nothing from Faust, Kafka or the worker, and neither does event time."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

MONITOR = Path(__file__).resolve().parents[2] / "monitor"
FORBIDDEN = ("faust", "mode", "aiokafka", "kafka", "rocksdict", "aiohttp", "monitor.worker", "monitor.web",
             "monitor.alerts", "monitor.ops", "monitor.cli", "monitor.toolkit")


def imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("package", ["domain", "eventtime"])
def test_pure_packages_import_no_framework(package: str) -> None:
    files = sorted((MONITOR / package).glob("*.py"))
    assert files
    bad = {f"{f.name}: {name}" for f in files for name in imports(f)
           if any(name == x or name.startswith(x + ".") for x in FORBIDDEN)}
    assert not bad, sorted(bad)
