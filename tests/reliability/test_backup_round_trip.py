"""Backup: `tracker export` writes every event as JSON Lines, and `tracker import` of that file
into an empty database (same backend or the other one) reproduces identical projections,
checked by hash: the folded ledger, and the JSON answer to a fixed set of questions.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from events.schema import (
    AnnualReportSubmitted,
    EventCorrected,
    EventRetracted,
    InitialReportSubmitted,
    StateFactReported,
)
from events.sql import SqlEventStore
from projections.ledger import Ledger
from tracker import cli
from tracker.clock import FixedClock
from tracker.config import Role
from tracker.importer import load_bundled
from tracker.recording import Actor, Recorder
from tracker.service import TrackerService

if TYPE_CHECKING:
    from tests.databases import TestDatabase

NOW = datetime(2025, 1, 15, 12, 0, tzinfo=UTC)
RECORDER = Actor("telegram:222 (ana)", Role.RECORDER)

#: The questions whose answers must not change by a backup and restore.
QUESTIONS = [
    ["query", "count", "parties", "--as-of", "2024-06-30", "--known-at", "2024-09-18"],
    ["query", "count", "bound", "--as-of", "2024-06-30", "--known-at", "2024-09-18"],
    ["query", "count", "signatories", "--as-of", "2024-06-30", "--known-at", "2024-09-18"],
    ["query", "count", "parties", "--as-of", "2025-01-15", "--known-at", "2025-06-01"],
    ["query", "overdue", "initial", "--as-of", "2024-06-30", "--known-at", "2024-09-18"],
    [
        "query",
        "overdue",
        "annual",
        "--year",
        "2023",
        "--as-of",
        "2025-01-15",
        "--known-at",
        "2025-06-01",
    ],
    ["query", "annual", "2023", "--as-of", "2025-01-15", "--known-at", "2025-06-01"],
    ["query", "obligations", "4", "--as-of", "2024-06-30", "--known-at", "2024-09-18"],
    ["query", "extensions", "12MSP", "--known-at", "2024-09-18"],
    ["query", "state", "Lao PDR", "--as-of", "2025-01-15", "--known-at", "2025-06-01"],
    ["query", "state", "Togo", "--as-of", "2025-01-15", "--known-at", "2025-06-01"],
    ["query", "changes", "2023-07-01..2024-06-30", "--known-at", "2024-09-18"],
    ["query", "indicators", "2023-07-01..2024-06-30", "--known-at", "2024-09-18"],
    ["report", "--period", "2023-07-01..2024-06-30", "--known-at", "2024-09-18"],
    ["report", "--period", "2024-07-01..2025-06-30", "--known-at", "2025-06-01"],
]


@pytest.mark.parametrize("target_backend", ["same", "other"])
def test_an_export_imported_into_an_empty_database_reproduces_identical_projections(
    store: SqlEventStore,
    db_url: TestDatabase,
    target_backend: str,
    tmp_path: Path,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Arrange: the bundled dataset plus recorded events, a correction and a retraction.
    _record_some_events(store)
    backend = db_url.backend
    if target_backend == "other":
        backend = "postgres" if backend == "sqlite" else "sqlite"
    backup = tmp_path / "backup.jsonl"

    with _empty_database(backend, request, tmp_path) as target:
        # Act: export with the CLI, import the file with the CLI into the empty database.
        _use(monkeypatch, db_url)
        assert _tracker("export", str(backup)) == 0
        _use(monkeypatch, target)
        assert _tracker("db", "upgrade") == 0
        assert _tracker("import", str(backup)) == 0

        # Assert: same events, same folded ledger, same answers.
        with SqlEventStore(target.url, target.schema) as restored:
            source_events = [_without_position(e.to_record()) for e in store.read_all()]
            restored_events = [_without_position(e.to_record()) for e in restored.read_all()]
            assert sorted(restored_events, key=_key) == sorted(source_events, key=_key)
            assert _ledger_hash(restored) == _ledger_hash(store)
        restored_answers = _answers(monkeypatch, target)
        source_answers = _answers(monkeypatch, db_url)
        assert restored_answers == source_answers  # shows the question whose answer changed
        assert _digest(restored_answers) == _digest(source_answers)

        # And importing the backup once more adds nothing.
        _use(monkeypatch, target)
        out = io.StringIO()
        assert cli.main(["import", str(backup)], out=out) == 0
        assert f"added 0, already present {len(source_events)}" in out.getvalue()

    lines = backup.read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(source_events)
    print(
        f"\n[backup, {db_url.backend} → {backend}] {len(lines)} events exported and restored; "
        f"ledger and {len(QUESTIONS)} answers identical "
        f"(answers sha256 {_digest(source_answers)[:12]})"
    )


# --- helpers ------------------------------------------------------------------------------------


def _record_some_events(store: SqlEventStore) -> None:
    load_bundled(store)
    recorder = Recorder(TrackerService(store, FixedClock(NOW)))
    report = recorder.record(
        RECORDER, AnnualReportSubmitted(state="TGO", year_covered=2023), "2025-01-10", "ISU mail"
    )
    recorder.record(
        RECORDER,
        EventCorrected(target_event_id=report.event_id, reason="typo", occurred_on="2025-01-09"),
        "2025-01-14",
        "ISU mail",
    )
    mistaken = recorder.record(
        RECORDER,
        StateFactReported(state="LAO", fact="provided_assistance", detail="entered by mistake"),
        "2024-12-01",
        "note",
    )
    recorder.record(
        RECORDER,
        EventRetracted(target_event_id=mistaken.event_id, reason="wrong State"),
        "2025-01-14",
        "note",
    )
    # A State whose initial report the bundled data lists as overdue hands it in.
    recorder.record(
        RECORDER, InitialReportSubmitted(state="COM", form_version="revised"), "2025-01-12", "x"
    )


def _use(monkeypatch: pytest.MonkeyPatch, db: TestDatabase) -> None:
    for name in list(os.environ):
        if name.startswith("TRACKER_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("TRACKER_DATABASE_URL", db.url)
    if db.schema:
        monkeypatch.setenv("TRACKER_DATABASE_SCHEMA", db.schema)
    monkeypatch.setenv("TRACKER_LOG_LEVEL", "WARNING")


def _tracker(*argv: str) -> int:
    return cli.main(list(argv), out=io.StringIO())


def _answers(monkeypatch: pytest.MonkeyPatch, db: TestDatabase) -> dict[str, str]:
    """Each question's JSON answer, canonical (sorted keys), by question."""
    _use(monkeypatch, db)
    answers = {}
    for question in QUESTIONS:
        out = io.StringIO()
        assert cli.main([*question, "--json"], out=out) == 0, question
        answers[" ".join(question)] = json.dumps(json.loads(out.getvalue()), sort_keys=True)
    return answers


def _digest(answers: dict[str, str]) -> str:
    return hashlib.sha256("\n".join(answers.values()).encode()).hexdigest()


def _ledger_hash(store: SqlEventStore) -> str:
    """The folded ledger of everything known, store-assigned positions left out."""
    snapshot = Ledger.from_events(store.read_all()).snapshot()
    return hashlib.sha256(
        json.dumps(_strip_positions(snapshot), sort_keys=True, default=str).encode()
    ).hexdigest()


def _strip_positions(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip_positions(v) for k, v in value.items() if k != "position"}
    if isinstance(value, list):
        return [_strip_positions(v) for v in value]
    return value


def _without_position(record: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k != "position"}


def _key(record: dict[str, Any]) -> tuple[str, int]:
    return record["stream"], record["version"]


@contextmanager
def _empty_database(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[TestDatabase]:
    from tests.databases import empty_database

    with empty_database(backend, request, tmp_path, "restored.db") as database:
        yield database
