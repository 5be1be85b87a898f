"""The topics' JSON Schemas: ``monitor schemas export [--check]``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from monitor.cli.common import CommandError, add_command

__all__ = ["register", "SCHEMA_DIR"]

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "schemas"


def cmd_schemas_export(args: argparse.Namespace) -> int:
    from monitor.wire.contracts import CONTRACTS

    out = Path(args.dir)
    out.mkdir(parents=True, exist_ok=True)
    stale = []
    for topic, contract in CONTRACTS.items():
        path = out / f"{topic}.schema.json"
        text = json.dumps(contract.json_schema(), indent=2, ensure_ascii=False) + "\n"
        if args.check:
            if not path.exists() or path.read_text() != text:
                stale.append(path.name)
        else:
            path.write_text(text)
            print(f"wrote {path}")
    if stale:
        raise CommandError(f"schemas out of date: {', '.join(stale)} (run `monitor schemas export`)")
    return 0


def register(sub: Any) -> None:
    """Add ``monitor schemas export`` to the ``monitor`` parser."""
    schemas = sub.add_parser("schemas", help="JSON Schemas of the topics")
    ssub = schemas.add_subparsers(dest="schemas_command", metavar="ACTION", required=True)
    s = add_command(ssub, "export", cmd_schemas_export, "write schemas/*.schema.json from the contracts")
    s.add_argument("--dir", default=str(SCHEMA_DIR), help="output folder")
    s.add_argument("--check", action="store_true", help="fail if the files differ from the contracts")
