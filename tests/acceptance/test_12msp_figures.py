"""The bundled CCM dataset reproduces the published figures of the 12MSP Progress Report.

As of 30 June 2024 (the end of the reporting period), known at 18 September 2024 (the report's
date), on every backend, through the service and through `tracker query --json`.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest

from events.sql import SqlEventStore
from tracker.cli import main
from tracker.clock import FixedClock
from tracker.importer import load_bundled
from tracker.service import TrackerService

AS_OF = date(2024, 6, 30)
KNOWN_AT = datetime(2024, 9, 18, 23, 59, 59, tzinfo=UTC)
PERIOD = (date(2023, 7, 1), AS_OF)


@pytest.fixture
def service(store: SqlEventStore) -> Iterator[TrackerService]:
    load_bundled(store)
    yield TrackerService(store, FixedClock(datetime(2026, 11, 27, tzinfo=UTC)))


def test_every_acceptance_figure_of_the_12msp_report_is_computed(service: TrackerService) -> None:
    figures, _ = service.indicator_set(*PERIOD, KNOWN_AT)
    by_key = {f.key: f for f in figures}

    def names(key: str) -> set[str]:
        return set(by_key[key].states)

    assert service.count("parties", AS_OF, KNOWN_AT).value == 112
    assert service.count("signatories", AS_OF, KNOWN_AT).value == 12
    assert service.count("signed_or_joined", AS_OF, KNOWN_AT).value == 124
    changes = service.joined(*PERIOD, KNOWN_AT)
    assert [(r["iso3"], r["entry_into_force"]) for r in changes.rows] == [("SSD", "2024-02-01")]
    annual = service.annual(2023, AS_OF, KNOWN_AT).data
    assert (annual["expected"], annual["submitted"]) == (103, 51)
    assert (annual["on_time"], annual["late"]) == (39, 12)
    assert names("initial_received") == {"NGA", "SSD"}
    assert (by_key["initial_submitted_total"].value, by_key["initial_submitted_total"].out_of) == (
        105,
        112,
    )
    overdue = service.overdue_initial(AS_OF, KNOWN_AT)
    assert [(r["name"], r["year_due"]) for r in overdue.rows] == [
        ("Comoros", 2011),
        ("Cabo Verde", 2011),
        ("Togo", 2013),
        ("Congo", 2015),
        ("Guinea", 2015),
        ("Rwanda", 2016),
        ("Madagascar", 2018),
    ]
    assert by_key["revised_form"].value == 24
    assert by_key["overdue_earlier_submitted"].value == 16
    assert (by_key["form_j"].value, by_key["gender_other_forms"].value) == (9, 5)
    assert names("art3_compliance") == {"BGR", "PER", "SVK", "ZAF"}
    assert service.obligations(4, AS_OF, KNOWN_AT).value == 10
    assert names("art4_compliance") == {"BIH"}
    assert by_key["art4_compliance"].note == "BIH 2023-08-31"
    requests = service.extensions("12MSP", KNOWN_AT)
    assert requests.value == 3
    assert requests.data["on_time"] == 0
    assert by_key["victims"].value == 12
    assert (by_key["assistance_provided"].value, by_key["assistance_received"].value) == (23, 13)
    assert by_key["disseminated"].value == 22


def test_the_names_behind_the_on_time_and_late_2023_reports_are_those_of_paras_100_and_101(
    service: TrackerService,
) -> None:
    rows = service.annual(2023, AS_OF, KNOWN_AT).rows
    late = {r["name"] for r in rows if r["status"] == "late"}

    assert late == {
        "Afghanistan", "Albania", "Chad", "Denmark", "France", "Italy", "Mexico", "Montenegro",
        "Peru", "Portugal", "Slovakia", "State of Palestine",
    }  # fmt: skip
    assert "Holy See" in {r["name"] for r in rows if r["status"] == "on_time"}


def test_imprecise_report_dates_stay_bounds_not_invented_days(service: TrackerService) -> None:
    rows = service.annual(2023, AS_OF, KNOWN_AT).rows

    submitted = {r["submitted"] for r in rows if r["status"] in ("on_time", "late")}

    assert all(".." in str(s) for s in submitted)


def test_annual_reports_for_a_year_the_data_does_not_cover_are_not_listed_as_missing(
    service: TrackerService,
) -> None:
    answer = service.overdue_annual(2015, date(2016, 6, 30), KNOWN_AT)

    assert answer.rows == ()
    assert answer.value is None
    assert any("does not" in note or "not" in note for note in answer.notes)


def test_what_was_known_before_the_report_differs_from_what_it_published(
    service: TrackerService,
) -> None:
    before = service.annual(2023, AS_OF, datetime(2024, 9, 1, tzinfo=UTC))

    assert before.data["submitted"] == 0
    assert before.data["covered"] is False


def _cli_json(args: list[str]) -> dict[str, Any]:
    out = io.StringIO()
    assert main([*args, "--json"], out=out) == 0
    result: dict[str, Any] = json.loads(out.getvalue())
    return result


def test_the_same_numbers_come_out_of_tracker_query(
    db_url: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRACKER_DATABASE_URL", db_url.url)
    if db_url.schema:
        monkeypatch.setenv("TRACKER_DATABASE_SCHEMA", db_url.schema)
    assert main(["init"], out=io.StringIO()) == 0
    times = ["--as-of", "2024-06-30", "--known-at", "2024-09-18"]

    parties = _cli_json(["query", "count", "parties", *times])
    overdue = _cli_json(["query", "overdue", "initial", *times])
    annual = _cli_json(["query", "annual", "2023", *times])
    state = _cli_json(["query", "state", "South Sudan", *times])

    assert (parties["what"], parties["value"], len(parties["items"])) == ("parties", 112, 112)
    assert {"iso3", "name"} <= set(parties["items"][0])
    assert parties["sources"]
    assert [i["iso3"] for i in overdue["items"]][:2] == ["COM", "CPV"]
    assert {"iso3", "name", "due", "days_overdue"} <= set(overdue["items"][0])
    assert (annual["expected"], annual["submitted"], annual["on_time"]) == (103, 51, 39)
    assert state["entry_into_force"] == "2024-02-01"
    assert state["initial_report_due"] == "2024-07-30"
