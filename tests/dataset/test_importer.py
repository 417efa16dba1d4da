"""The CSV/JSONL importer: all or nothing, idempotent, and every refusal names row and field."""

from __future__ import annotations

import functools
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from events.schema import AnnualReportSubmitted, new_event
from events.store import EventStore
from tracker.clock import FixedClock
from tracker.importer import ImportFileError, plan_import, run_import

from .fakes import InMemoryStore

CLOCK = FixedClock(datetime(2024, 9, 18, 12, 0, tzinfo=UTC))
HEADER = "type,occurred_on,recorded_by,source,state,payload.year_covered,payload.form_version\n"

#: These tests are about reading files (formats, ids, atomicity), mostly into empty stores where no
#: State is a party yet; the treaty rules an import applies are tested in
#: tests/service/test_import_rules.py.
import_file = functools.partial(run_import, check_rules=False)


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def annual_csv(tmp_path: Path, *rows: str, name: str = "reports.csv") -> Path:
    return write(tmp_path, name, HEADER + "".join(f"{row}\n" for row in rows))


GOOD_ROWS = (
    "report.annual.submitted,2024-04-30,alice,CCM/MSP/2024/7 para 100,Lao PDR,2023,revised",
    "report.annual.submitted,2024-01-01..2024-04-30,alice,CCM/MSP/2024/7 para 100,Bosnia,2023,",
    "report.annual.submitted,2024-05-02,alice,CCM/MSP/2024/7 para 101,State of Palestine,2023,",
)


# --- CSV --------------------------------------------------------------------------------------


def test_csv_with_flat_payload_columns_and_state_names(tmp_path: Path) -> None:
    store = InMemoryStore()
    report = import_file(store, annual_csv(tmp_path, *GOOD_ROWS), clock=CLOCK)
    assert (report.read, report.added, report.already_present, report.refused) == (3, 3, 0, ())
    assert report.stored
    states = [e.payload.state for e in store.events]
    assert states == ["LAO", "BIH", "PSE"]
    first = store.events[0]
    assert first.stream == "ccm:state:LAO"
    assert isinstance(first.payload, AnnualReportSubmitted)
    assert first.payload.year_covered == 2023 and first.payload.form_version == "revised"
    assert str(store.events[1].occurred_on) == "2024-01-01..2024-04-30"
    # No recorded_at column: the knowledge time is the time of import.
    assert first.recorded_at == CLOCK.now()
    # One transaction for the whole file.
    assert store.append_calls == 1


def test_importing_the_same_file_twice_adds_nothing(tmp_path: Path) -> None:
    store = InMemoryStore()
    path = annual_csv(tmp_path, *GOOD_ROWS)
    import_file(store, path, clock=CLOCK)
    later = FixedClock(datetime(2025, 1, 1, tzinfo=UTC))
    again = import_file(store, path, clock=later)
    assert (again.added, again.would_add, again.already_present) == (0, 0, 3)
    assert len(store.events) == 3


def test_one_bad_row_stores_nothing_and_names_row_and_reason(tmp_path: Path) -> None:
    store = InMemoryStore()
    path = annual_csv(
        tmp_path,
        GOOD_ROWS[0],
        "report.annual.submitted,2024-02-30,alice,CCM/MSP/2024/7 para 100,Chile,2023,",
        GOOD_ROWS[1],
        "report.annual.submitted,2024-04-30,alice,somewhere,Narnia,2023,",
    )
    report = import_file(store, path, clock=CLOCK)
    assert store.events == [] and store.append_calls == 0
    assert not report.stored and report.added == 0
    messages = [str(issue) for issue in report.refused]
    assert messages[0] == (
        "row 3: occurred_on: '2024-02-30' is not a real calendar date in the form YYYY-MM-DD"
    )
    assert messages[1].startswith("row 5: payload.state: 'Narnia' is not a known State (nearest:")
    assert len(messages) == 2
    assert "2 row(s) refused, nothing stored" in report.summary()


def test_dry_run_stores_nothing_and_reports_what_would_be_added(tmp_path: Path) -> None:
    store = InMemoryStore()
    report = import_file(store, annual_csv(tmp_path, *GOOD_ROWS), dry_run=True, clock=CLOCK)
    assert store.events == []
    assert (report.would_add, report.added, report.dry_run, report.stored) == (3, 0, True, False)
    assert "dry run" in report.summary()


def test_dry_run_lists_every_refused_row_too(tmp_path: Path) -> None:
    path = annual_csv(
        tmp_path,
        GOOD_ROWS[0],
        "report.annual.submited,2024-04-30,alice,x,Chile,2023,",
        "report.annual.submitted,2024-04-30,alice,x,Chile,1999,",
    )
    report = import_file(InMemoryStore(), path, dry_run=True, clock=CLOCK)
    assert report.would_add == 1
    assert [issue.number for issue in report.refused] == [3, 4]
    assert "did you mean 'report.annual.submitted'" in report.refused[0].message
    assert report.refused[1].message.startswith("payload.year_covered:")


def test_misspelt_state_is_stored_with_a_warning_naming_the_row(tmp_path: Path) -> None:
    store = InMemoryStore()
    path = annual_csv(
        tmp_path, GOOD_ROWS[0], "report.annual.submitted,2024-05-03,bob,para 102,Slovakai,2023,"
    )
    report = import_file(store, path, clock=CLOCK)
    assert report.added == 2
    assert [str(w) for w in report.warnings] == [
        "row 3: payload.state: 'Slovakai' read as Slovakia (SVK) — check the spelling"
    ]


def test_ambiguous_state_is_refused_with_candidates(tmp_path: Path) -> None:
    path = annual_csv(tmp_path, "report.annual.submitted,2024-05-03,bob,x,Korea,2023,")
    report = import_file(InMemoryStore(), path, clock=CLOCK)
    (issue,) = report.refused
    assert issue.number == 2
    assert "Republic of Korea (KOR)" in issue.message and "(PRK)" in issue.message


def test_payload_json_column_and_explicit_envelope_columns(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "facts.csv",
        "event_id,stream,type,occurred_on,recorded_at,recorded_by,source,payload\n"
        "6b1f0a0e-4a55-4c8a-9a43-4b5a3f3c2d11,ccm:state:CHL,state.fact_reported,"
        '2023-07-01..2024-06-30,2024-09-18,dataset,para 19,"{""state"": ""Chile"", '
        '""fact"": ""used_form_j""}"\n',
    )
    store = InMemoryStore()
    report = import_file(store, path, clock=CLOCK)
    assert report.refused == () and report.added == 1
    (stored,) = store.events
    assert str(stored.event_id) == "6b1f0a0e-4a55-4c8a-9a43-4b5a3f3c2d11"
    assert stored.recorded_at == datetime(2024, 9, 18, tzinfo=UTC)
    assert stored.payload.state == "CHL"


def test_stream_that_contradicts_the_state_is_refused(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "bad.csv",
        "stream,type,occurred_on,recorded_by,source,state,payload.fact\n"
        "ccm:state:LBM,state.fact_reported,2024-01-01,a,b,Lebanon,has_cluster_munition_victims\n",
    )
    (issue,) = plan_import(path, clock=CLOCK).refused
    assert issue.message.startswith("stream: 'ccm:state:LBM' does not match payload.state LBN")


def test_list_cells_and_semicolon_delimited_files(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "semi.csv",
        "type;occurred_on;recorded_by;source;state;payload.year_covered;payload.forms\n"
        "report.annual.submitted;2024-04-01;a;b;Japan;2023;A;J\n",
    )
    # "A;J" in a ';' file would be two cells: the row is refused, naming the cause.
    (issue,) = plan_import(path, clock=CLOCK).refused
    assert issue.number == 2 and "cells" in issue.message
    path = write(
        tmp_path,
        "forms.csv",
        "type,occurred_on,recorded_by,source,state,payload.year_covered,payload.forms\n"
        'report.annual.submitted,2024-04-01,a,b,Japan,2023,"A;J"\n',
    )
    (event,) = plan_import(path, clock=CLOCK).events
    assert event.payload.forms == ("A", "J")


def test_recorded_by_can_come_from_the_caller(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "nobody.csv",
        "type,occurred_on,source,state,payload.year_covered\n"
        "report.annual.submitted,2024-04-01,b,Japan,2023\n",
    )
    with pytest.raises(ImportFileError, match=r"missing column.*recorded_by"):
        plan_import(path)
    store = InMemoryStore()
    report = import_file(store, path, recorded_by="telegram:111", clock=CLOCK)
    assert report.added == 1 and store.events[0].recorded_by == "telegram:111"


def test_duplicate_rows_are_counted_once(tmp_path: Path) -> None:
    store = InMemoryStore()
    report = import_file(store, annual_csv(tmp_path, GOOD_ROWS[0], GOOD_ROWS[0]), clock=CLOCK)
    assert report.added == 1
    assert [str(w) for w in report.warnings] == ["row 3: same event as row 2; counted once"]


def test_progress_is_reported(tmp_path: Path) -> None:
    calls: list[tuple[int, int]] = []
    plan_import(annual_csv(tmp_path, *GOOD_ROWS), progress=lambda d, t: calls.append((d, t)))
    assert calls[-1] == (3, 3)


# --- file-level errors --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("events.xlsx", "x", "export it as CSV or JSONL"),
        ("events.txt", "x", "unsupported file type '.txt'"),
        ("empty.csv", "  \n", "the file is empty"),
        ("empty.jsonl", "", "the file is empty"),
        ("header.csv", "type,occurred_on,recorded_by,source\n", "only a header"),
        ("cols.csv", "type,recorded_by,source\nx,y,z\n", "missing column(s) occurred_on"),
        ("typo.csv", "type,ocurred_on,recorded_by,source\n", "unknown column(s) 'ocurred_on'"),
        ("twice.csv", "type,type,occurred_on,recorded_by,source\n", "appears twice"),
    ],
)
def test_file_level_problems_raise_with_a_useful_message(
    tmp_path: Path, name: str, text: str, message: str
) -> None:
    path = write(tmp_path, name, text)
    with pytest.raises(ImportFileError) as caught:
        import_file(InMemoryStore(), path)
    assert message in str(caught.value)
    assert str(path) in str(caught.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ImportFileError, match="file not found"):
        plan_import(tmp_path / "nope.jsonl")


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes(
        "type,occurred_on,recorded_by,source,state\nx,2024-01-01,a,b,Türkiye\n".encode("latin-1")
    )
    with pytest.raises(ImportFileError, match="not UTF-8"):
        plan_import(path)


# --- JSON Lines ----------------------------------------------------------------------------------


def envelope(**changes: object) -> str:
    record: dict[str, object] = {
        "type": "state.fact_reported",
        "occurred_on": "2023-07-01..2024-06-30",
        "recorded_at": "2024-09-18T00:00:00Z",
        "recorded_by": "test",
        "source": "CCM/MSP/2024/7 para 71",
        "payload": {"state": "Lao PDR", "fact": "has_cluster_munition_victims"},
    }
    record.update(changes)
    return json.dumps(record, ensure_ascii=False)


def test_jsonl_resolves_names_and_ignores_store_assigned_numbers(tmp_path: Path) -> None:
    exported = envelope(version=7, position=1234, payload={"state": "LBN", "fact": "used_form_j"})
    path = write(tmp_path, "events.jsonl", envelope() + "\n\n" + exported + "\n")
    store = InMemoryStore()
    report = import_file(store, path)
    assert report.refused == () and report.added == 2 and report.read == 2
    assert [e.stream for e in store.events] == ["ccm:state:LAO", "ccm:state:LBN"]
    assert store.events[1].version == 1  # the store's own numbering, not the file's


def test_jsonl_line_errors_name_the_line(tmp_path: Path) -> None:
    lines = [
        envelope(),
        '{"type": "state.signed" "occurred_on": "2009-01-01"}',
        "[1, 2]",
        envelope(type="state.nonsense"),
        envelope(payload={"state": "Lao PDR", "fact": "likes_cake"}),
        envelope(occurred_on="2024-06-30..2024-01-01"),
        envelope(source=""),
        envelope(colour="blue"),
    ]
    store = InMemoryStore()
    report = import_file(store, write(tmp_path, "bad.jsonl", "\n".join(lines) + "\n"))
    assert store.events == []
    by_line = {issue.number: issue.message for issue in report.refused}
    assert sorted(by_line) == [2, 3, 4, 5, 6, 7, 8]
    assert by_line[2] == "not valid JSON (Expecting ',' delimiter at column 25)"
    assert by_line[3] == "expected a JSON object (one event per line), got list"
    assert by_line[4].startswith("type: unknown event type 'state.nonsense'")
    assert by_line[5].startswith("payload.fact:")
    assert by_line[6].startswith("occurred_on: date range ends (2024-01-01) before it starts")
    assert by_line[7].startswith("source:")
    assert by_line[8].startswith("colour:")
    assert str(report.refused[0]).startswith("line 2: ")


def test_jsonl_without_recorded_at_uses_the_clock_and_stays_idempotent(tmp_path: Path) -> None:
    record = json.loads(envelope())
    del record["recorded_at"]
    path = write(tmp_path, "now.jsonl", json.dumps(record) + "\n")
    store = InMemoryStore()
    assert import_file(store, path, clock=CLOCK).added == 1
    assert store.events[0].recorded_at == CLOCK.now()
    assert import_file(store, path, clock=FixedClock(datetime(2030, 1, 1, tzinfo=UTC))).added == 0


def test_explicit_event_ids_already_in_the_store_count_as_present(tmp_path: Path) -> None:
    store = InMemoryStore()
    existing = new_event(
        AnnualReportSubmitted(state="CHL", year_covered=2023),
        occurred_on="2024-04-01",
        recorded_at=CLOCK.now(),
        recorded_by="a",
        source="b",
    )
    store.append(existing.stream, [existing], None)
    record = existing.to_record()
    path = write(tmp_path, "one.jsonl", json.dumps(record) + "\n" + envelope() + "\n")
    report = import_file(store, path)
    assert (report.added, report.already_present) == (1, 1)


# --- against the SQL store (SQLite and PostgreSQL) ---------------------------------------------


def test_sql_store_import_is_atomic_and_idempotent(tmp_path: Path, store: EventStore) -> None:
    bad = annual_csv(tmp_path, *GOOD_ROWS, "report.annual.submitted,2024-13-01,a,b,Chile,2023,")
    refused = import_file(store, bad, clock=CLOCK)
    assert [issue.number for issue in refused.refused] == [5]
    assert store.head_position() == 0
    good = annual_csv(tmp_path, *GOOD_ROWS, name="good.csv")
    assert import_file(store, good, clock=CLOCK).added == 3
    assert import_file(store, good, clock=CLOCK).already_present == 3
    assert store.head_position() == 3
