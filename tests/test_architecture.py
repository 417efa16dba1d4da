"""Dependencies point one way: bot → tracker → projections → events; adapters stay at the edges."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("events", "projections", "tracker", "bot")
# SQLAlchemy belongs to the stores and the composition root only.
SQL_ALLOWED = ("events/sql.py", "events/migrations/", "tracker/bootstrap.py", "tracker/stores/")
CLOCK_READS = re.compile(r"\b(date\.today|datetime\.now|datetime\.utcnow|time\.time)\s*\(")


def _modules() -> list[tuple[str, set[str]]]:
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            imported: set[str] = set()
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    imported.update(alias.name.split(".")[0] for alias in node.names)
                elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    imported.add(node.module.split(".")[0])
            found.append((path.relative_to(ROOT).as_posix(), imported))
    return found


def test_events_and_projections_import_neither_tracker_nor_bot() -> None:
    offenders = [
        (path, sorted(imports & {"tracker", "bot"}))
        for path, imports in _modules()
        if path.startswith(("events/", "projections/")) and imports & {"tracker", "bot"}
    ]
    assert offenders == []


def test_events_import_nothing_above_them() -> None:
    offenders = [
        p for p, imports in _modules() if p.startswith("events/") and "projections" in imports
    ]
    assert offenders == []


def test_nothing_outside_bot_imports_bot() -> None:
    offenders = [p for p, imports in _modules() if not p.startswith("bot/") and "bot" in imports]
    assert offenders == []


def test_telegram_is_imported_only_in_bot() -> None:
    offenders = [
        p for p, imports in _modules() if not p.startswith("bot/") and "telegram" in imports
    ]
    assert offenders == []


def test_sqlalchemy_is_imported_only_by_stores_and_the_composition_root() -> None:
    offenders = [
        p
        for p, imports in _modules()
        if imports & {"sqlalchemy", "alembic", "psycopg"} and not p.startswith(SQL_ALLOWED)
    ]
    assert offenders == []


def test_rules_and_projections_never_read_the_clock() -> None:
    offenders = []
    for package in ("events", "projections"):
        for path in (ROOT / package).rglob("*.py"):
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if CLOCK_READS.search(line):
                    offenders.append(f"{path.relative_to(ROOT)}:{number}")
    assert offenders == []


def test_the_architecture_checker_sees_every_package() -> None:
    seen = {path.split("/")[0] for path, _ in _modules()}
    assert {"events", "tracker"} <= seen
