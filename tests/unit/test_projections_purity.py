"""Projections stay pure: no clock, no I/O, no outer layers; only events/ and small libraries."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PROJECTIONS = Path(__file__).resolve().parents[2] / "projections"
ALLOWED_ROOTS = {
    "__future__",
    "array",
    "collections",
    "dataclasses",
    "datetime",
    "functools",
    "typing",
    "uuid",
}
ALLOWED_ROOTS |= {"dateutil", "pydantic", "events", "projections"}
CLOCK_CALLS = {"today", "now", "utcnow", "time", "monotonic", "perf_counter"}


def modules() -> list[Path]:
    return sorted(PROJECTIONS.glob("*.py"))


@pytest.mark.parametrize("path", modules(), ids=lambda p: p.name)
def test_a_projection_module_imports_only_events_and_small_libraries(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            roots.add(node.module.split(".")[0])

    assert roots <= ALLOWED_ROOTS, roots - ALLOWED_ROOTS


@pytest.mark.parametrize("path", modules(), ids=lambda p: p.name)
def test_a_projection_module_never_reads_the_clock_or_opens_files(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    calls = {
        node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
    }

    assert not calls & (CLOCK_CALLS | {"open", "read_text", "print"})
