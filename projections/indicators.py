"""Progress-report indicators for a reporting period, computed from State-level events.

Each `Indicator` carries the States behind its figure, so a report can show the names behind
every number. Figures a source publishes without naming States are not computed here; they
come from `projections.published` and are labelled as published wherever they are shown.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from typing import cast

from events.schema import StateFactReported
from projections.extensions import requests_for_meeting
from projections.ledger import Ledger
from projections.meetings import meetings
from projections.membership import count, joined_between, memberships
from projections.obligations import compliance_declared_between, open_obligations
from projections.reporting import (
    annual_status,
    overdue_initial,
    reports_received,
    revised_form_users,
    submission_by,
)


@dataclass(frozen=True)
class Indicator:
    key: str
    area: str
    label: str
    value: int
    #: ISO3 codes behind the figure, sorted.
    states: tuple[str, ...]
    lap_action: str | None = None
    #: "of N" for figures read as a share (e.g. 105 of 112 initial reports).
    out_of: int | None = None
    note: str | None = None
    #: The `aggregate.published` figure that states the same quantity, if any (for audits and
    #: reports that show both).
    published_as: str | None = None


@dataclass(frozen=True)
class Period:
    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"period ends ({self.end}) before it starts ({self.start})")

    @property
    def report_year(self) -> int:
        """The calendar year whose annual reports fall due (30 April) within the period."""
        year = self.end.year - 1
        due = date(year + 1, 4, 30)
        return year if due <= self.end else year - 1

    def contains(self, day: date) -> bool:
        return self.start <= day <= self.end


AREAS: tuple[str, ...] = (
    "Universalization",
    "Stockpile destruction and retention",
    "Survey and clearance",
    "Victim assistance",
    "International cooperation and assistance",
    "Transparency measures",
    "National implementation measures",
    "Compliance",
    "Gender and diverse needs",
)


def _codes(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted(set(values)))


def _facts(ledger: Ledger, fact: str, period: Period, to_date: bool = False) -> tuple[str, ...]:
    """States with `fact` reported for the period (or, with to_date, any time up to its end)."""
    found = []
    for iso3, record in ledger.states.items():
        for event in record.facts.values():
            payload = cast(StateFactReported, event.payload)
            if payload.fact != fact:
                continue
            start = payload.period_start or event.occurred_on.not_before
            end = payload.period_end or event.occurred_on.not_after
            if to_date:
                if start <= period.end:
                    found.append(iso3)
            elif start <= period.end and end >= period.start:
                found.append(iso3)
    return _codes(found)


def _next_meeting_after(ledger: Ledger, day: date) -> str | None:
    upcoming = [m for m in meetings(ledger) if m.start_date > day]
    return upcoming[0].meeting if upcoming else None


def indicators(ledger: Ledger, period: Period) -> tuple[Indicator, ...]:
    """Every computed indicator for `period`, valid as of its last day."""
    end = period.end
    year = period.report_year
    out: list[Indicator] = []
    add = out.append

    parties = count(ledger, "parties", end)
    add(
        Indicator(
            "parties",
            "Universalization",
            "States Parties",
            parties.value,
            _codes(r.iso3 for r in parties.items),
        )
    )
    bound = count(ledger, "bound", end)
    add(
        Indicator(
            "bound",
            "Universalization",
            "States Parties for which the Convention is in force",
            bound.value,
            _codes(r.iso3 for r in bound.items),
        )
    )
    signatories = count(ledger, "signatories", end)
    add(
        Indicator(
            "signatories",
            "Universalization",
            "Signatory States",
            signatories.value,
            _codes(r.iso3 for r in signatories.items),
        )
    )
    joined_total = count(ledger, "signed_or_joined", end)
    add(
        Indicator(
            "signed_or_joined",
            "Universalization",
            "States that signed, ratified or acceded",
            joined_total.value,
            _codes(r.iso3 for r in joined_total.items),
        )
    )
    joined = joined_between(ledger, period.start, end)
    add(
        Indicator(
            "new_parties",
            "Universalization",
            "New States Parties in the period",
            len(joined),
            _codes(j.iso3 for j in joined),
            published_as="lap.a10.new_states_parties",
            lap_action="Action 10",
            note="; ".join(f"{j.iso3} entry into force {j.entry_into_force}" for j in joined)
            or None,
        )
    )

    status = annual_status(ledger, year, end)
    add(
        Indicator(
            "annual_expected",
            "Transparency measures",
            f"Annual Article 7 reports for {year} expected",
            len(status.expected),
            _codes(status.expected),
        )
    )
    submitted = [r.iso3 for r in (*status.on_time, *status.late, *status.timing_unknown)]
    add(
        Indicator(
            "annual_submitted",
            "Transparency measures",
            f"Annual Article 7 reports for {year} submitted",
            len(submitted),
            _codes(submitted),
            out_of=len(status.expected),
        )
    )
    add(
        Indicator(
            "annual_on_time",
            "Transparency measures",
            f"{year} annual reports submitted by 30 April {year + 1}",
            len(status.on_time),
            _codes(r.iso3 for r in status.on_time),
        )
    )
    add(
        Indicator(
            "annual_late",
            "Transparency measures",
            f"{year} annual reports submitted after 30 April {year + 1}",
            len(status.late),
            _codes(r.iso3 for r in status.late),
        )
    )

    received = [r for r in reports_received(ledger, period.start, end) if not r.uncertain]
    initial_in_period = _codes(r.iso3 for r in received if r.kind == "initial")
    add(
        Indicator(
            "initial_received",
            "Transparency measures",
            "Initial reports received in the period",
            len(initial_in_period),
            initial_in_period,
        )
    )
    party_codes = {r.iso3 for r in parties.items}
    with_initial = _codes(
        iso3
        for iso3 in party_codes
        if submission_by(ledger.states[iso3].initial_reports, end)[0] is not None
    )
    add(
        Indicator(
            "initial_submitted_total",
            "Transparency measures",
            "States Parties that have submitted an initial report",
            len(with_initial),
            with_initial,
            out_of=parties.value,
        )
    )
    overdue = overdue_initial(ledger, end)
    add(
        Indicator(
            "initial_overdue",
            "Transparency measures",
            "Overdue initial reports",
            len(overdue),
            _codes(o.iso3 for o in overdue),
            note=", ".join(f"{o.iso3} ({o.year_due})" for o in overdue) or None,
        )
    )
    on_time_initial = _codes(
        r.iso3
        for r in received
        if r.kind == "initial" and r.submitted.not_after <= date(year + 1, 4, 30)
    )
    add(
        Indicator(
            "reports_by_30_april",
            "Transparency measures",
            f"States Parties that submitted an initial or {year} annual report by 30 April",
            len(set(r.iso3 for r in status.on_time) | set(on_time_initial)),
            _codes([*(r.iso3 for r in status.on_time), *on_time_initial]),
            published_as="lap.a43.reports_by_30_april",
            lap_action="Action 43",
        )
    )
    revised = revised_form_users(ledger, period.start, end)
    add(
        Indicator(
            "revised_form",
            "Transparency measures",
            "States Parties that used the revised reporting form",
            len(revised),
            _codes(r.iso3 for r in revised),
            published_as="lap.a45.revised_form",
            lap_action="Action 45",
        )
    )
    earlier = _codes(
        r.iso3
        for r in received
        if r.kind == "annual" and r.year_covered is not None and r.year_covered < year
    )
    add(
        Indicator(
            "overdue_earlier_submitted",
            "Transparency measures",
            f"States Parties that submitted overdue reports for years before {year}",
            len(earlier),
            earlier,
        )
    )

    form_j = _facts(ledger, "used_form_j", period)
    add(
        Indicator(
            "form_j",
            "Gender and diverse needs",
            "States Parties that used Form J",
            len(form_j),
            form_j,
        )
    )
    gender = _facts(ledger, "gender_in_other_forms", period)
    add(
        Indicator(
            "gender_other_forms",
            "Gender and diverse needs",
            "States Parties that gave gender information in other forms",
            len(gender),
            gender,
        )
    )

    art3 = compliance_declared_between(ledger, 3, period.start, end)
    add(
        Indicator(
            "art3_compliance",
            "Stockpile destruction and retention",
            "Article 3 compliance declared in the period",
            len(_codes(c.iso3 for c in art3 if not c.uncertain)),
            _codes(c.iso3 for c in art3 if not c.uncertain),
            published_as="lap.a13.art3_compliance_declared",
            lap_action="Action 13",
        )
    )
    retention = _facts(ledger, "retains_cluster_munitions", period)
    add(
        Indicator(
            "retention",
            "Stockpile destruction and retention",
            "States Parties retaining cluster munitions under Article 3.6",
            len(retention),
            retention,
            published_as="lap.a17.retaining",
            lap_action="Action 17",
        )
    )
    art4_open = open_obligations(ledger, 4, end)
    add(
        Indicator(
            "art4_open",
            "Survey and clearance",
            "States Parties with Article 4 obligations",
            len(_codes(v.iso3 for v in art4_open)),
            _codes(v.iso3 for v in art4_open),
        )
    )
    art4 = compliance_declared_between(ledger, 4, period.start, end)
    add(
        Indicator(
            "art4_compliance",
            "Survey and clearance",
            "Article 4 compliance declared in the period",
            len(_codes(c.iso3 for c in art4 if not c.uncertain)),
            _codes(c.iso3 for c in art4 if not c.uncertain),
            published_as="lap.a25.art4_completed",
            lap_action="Action 25",
            note="; ".join(f"{c.iso3} {c.declared_on}" for c in art4) or None,
        )
    )
    meeting = _next_meeting_after(ledger, end)
    if meeting is not None:
        requests = [r for r in requests_for_meeting(ledger, meeting) if r.article == 4]
        add(
            Indicator(
                "art4_requests",
                "Survey and clearance",
                f"Article 4 extension requests for {meeting}",
                len(requests),
                _codes(r.iso3 for r in requests),
            )
        )
        timely = [
            r
            for r in requests_for_meeting(ledger, meeting)
            if r.timeliness in ("on_time", "on_cutoff_day")
        ]
        add(
            Indicator(
                "requests_on_time",
                "Compliance",
                f"Extension requests for {meeting} submitted in a timely manner",
                len(timely),
                _codes(r.iso3 for r in timely),
                published_as="lap.a50.timely_extension_requests",
                lap_action="Action 50",
            )
        )

    victims = _facts(ledger, "has_cluster_munition_victims", period, to_date=True)
    add(
        Indicator(
            "victims",
            "Victim assistance",
            "States Parties with cluster munition victims",
            len(victims),
            victims,
        )
    )
    provided = _facts(ledger, "provided_assistance", period)
    add(
        Indicator(
            "assistance_provided",
            "International cooperation and assistance",
            "States Parties that provided assistance",
            len(provided),
            provided,
            published_as="lap.a03.donor_support",
            lap_action="Action 3",
        )
    )
    got = _facts(ledger, "received_assistance", period)
    either = _codes([*provided, *got])
    add(
        Indicator(
            "assistance_provided_or_received",
            "International cooperation and assistance",
            "States Parties that provided or received assistance",
            len(either),
            either,
            lap_action="Action 40",
            published_as="lap.a40.provided_or_received",
        )
    )
    add(
        Indicator(
            "assistance_received",
            "International cooperation and assistance",
            "States Parties that received assistance",
            len(got),
            got,
        )
    )
    disseminated = _facts(ledger, "disseminated_obligations", period, to_date=True)
    add(
        Indicator(
            "disseminated",
            "National implementation measures",
            "States Parties that disseminated their obligations, to date",
            len(disseminated),
            disseminated,
        )
    )
    return tuple(out)


def by_key(items: Iterable[Indicator]) -> dict[str, Indicator]:
    return {item.key: item for item in items}


Selector = Callable[[Ledger, Period], tuple[Indicator, ...]]


def all_states(ledger: Ledger) -> tuple[str, ...]:
    """Every State the ledger knows of (for completeness checks in reports)."""
    return _codes(m.iso3 for m in memberships(ledger))
