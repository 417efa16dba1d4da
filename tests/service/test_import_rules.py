"""Every write path holds events to the treaty's rules and the writer to a role: the importer."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from tracker.cli import main

HEADER = "type,occurred_on,source,recorded_by,state,payload.article,payload.year_covered"


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TRACKER_DATABASE_URL", f"sqlite:///{tmp_path / 'rules.db'}")
    assert main(["init"], out=io.StringIO()) == 0
    return tmp_path


def _csv(folder: Path, *rows: str) -> Path:
    path = folder / "events.csv"
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return path


def _import(path: Path, *flags: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(["import", str(path), *flags], out=out)
    return code, out.getvalue()


def _count(database: Path) -> int:
    out = io.StringIO()
    main(["export", str(database / "all.jsonl")], out=out)
    return len((database / "all.jsonl").read_text(encoding="utf-8").splitlines())


def test_an_imported_compliance_declaration_with_no_obligation_is_refused_by_row(
    database: Path,
) -> None:
    before = _count(database)
    path = _csv(
        database,
        "report.annual.submitted,2025-02-01,ISU,ana,Austria,,2024",
        "compliance.declared,2025-02-01,ISU,ana,France,4,",
    )

    code, out = _import(path)

    assert code == 1
    assert "row 3: payload.article: France (FRA) has no recorded Article 4 obligation" in out
    assert _count(database) == before


def test_an_imported_report_for_a_year_the_state_was_not_a_party_is_refused(
    database: Path,
) -> None:
    path = _csv(database, "report.annual.submitted,2024-03-01,ISU,ana,South Sudan,,2022")

    code, out = _import(path)

    assert code == 1
    assert "row 2: payload.year_covered: South Sudan (SSD) was not a State Party in 2022" in out


def test_rows_are_checked_in_file_order_against_the_rows_before_them(database: Path) -> None:
    path = _csv(
        database,
        "obligation.declared,2025-01-10,ISU,ana,Austria,4,",
        "compliance.declared,2025-02-01,ISU,ana,Austria,4,",
    )

    code, out = _import(path)

    assert code == 0, out
    assert "added 2" in out


def test_a_curated_historical_load_can_skip_the_rules_but_not_validation(database: Path) -> None:
    path = _csv(database, "compliance.declared,2025-02-01,ISU,ana,France,4,")

    code, out = _import(path, "--no-rules")

    assert code == 0, out
    assert "added 1" in out


def test_a_viewer_at_the_command_line_cannot_import_or_load_data(
    database: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TRACKER_CLI_ROLE", "viewer")
    path = _csv(database, "report.annual.submitted,2025-02-01,ISU,ana,Austria,,2024")
    before = _count(database)

    code, _ = _import(path)
    init_code = main(["init"], out=io.StringIO())
    dry_code, dry_out = _import(path, "--dry-run")

    assert (code, init_code) == (2, 2)
    assert "has the role viewer; recording needs recorder or admin" in capsys.readouterr().err
    assert dry_code == 0 and "would add 1" in dry_out
    assert _count(database) == before
