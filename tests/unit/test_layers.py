"""The package's layers: the domain imports nothing from Faust, Kafka or the worker, and neither does event time."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

MONITOR = Path(__file__).resolve().parents[2] / "monitor"
FORBIDDEN = ("faust", "mode", "aiokafka", "kafka", "rocksdict", "aiohttp", "monitor.worker", "monitor.web",
             "monitor.alerts", "monitor.ops", "monitor.cli", "monitor.toolkit", "monitor.wire.records",
             "monitor.wire.codec")


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
    """Directly: no framework and no outer layer (the wire's records are Faust records, so not those either)."""
    files = sorted((MONITOR / package).glob("*.py"))
    assert files
    bad = {f"{f.name}: {name}" for f in files for name in imports(f)
           if any(name == x or name.startswith(x + ".") for x in FORBIDDEN)}
    assert not bad, sorted(bad)


def test_importing_the_domain_loads_no_framework() -> None:
    """Transitively too: a fresh interpreter that imports every domain and event-time module has loaded neither
    Faust nor a Kafka client (the backtest runs the domain in one process, without them)."""
    import subprocess
    import sys

    code = ("import sys, pkgutil, importlib, monitor.domain, monitor.eventtime\n"
            "for pkg in (monitor.domain, monitor.eventtime):\n"
            "    for m in pkgutil.iter_modules(pkg.__path__):\n"
            "        importlib.import_module(f'{pkg.__name__}.{m.name}')\n"
            "print(sorted(n for n in sys.modules if n.split('.')[0] in ('faust', 'mode', 'aiokafka', 'kafka', 'rocksdict')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]", out
