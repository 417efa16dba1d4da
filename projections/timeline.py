"""One State at a glance: its profile as of a date, and the timeline of everything recorded.

The profile lists what had (possibly) happened by `as_of`; the timeline lists every fact in
effect at the ledger's knowledge time, whatever its date, with corrections named.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import cast

from events.dates import DateRange
from events.facts import Fact
from events.schema import (
    AnnualReportSubmitted,
    ComplianceDeclared,
    ConsentDeposited,
    ExtensionDecided,
    ExtensionRequested,
    InitialReportSubmitted,
    ObligationDeclared,
    StateFactReported,
    StateSigned,
    WithdrawalNotified,
)
from projections.extensions import RequestView, requests_of
from projections.ledger import Ledger, StateRecord
from projections.membership import StateStatus, state_status
from projections.obligations import ObligationView, obligations
from projections.reporting import (
    OverdueInitial,
    ReportRef,
    initial_report_due_for,
    overdue_initial,
    report_ref,
)


@dataclass(frozen=True)
class FactView:
    fact: str
    period_start: date | None
    period_end: date | None
    detail: str | None
    reported_on: DateRange
    source: str
    event_id: uuid.UUID


@dataclass(frozen=True)
class StateProfile:
    iso3: str
    as_of: date
    status: StateStatus
    initial_report_due: date | None
    #: Present when the initial report is overdue at `as_of`.
    initial_overdue: OverdueInitial | None
    #: Reports possibly submitted by `as_of` (their range starts by then), oldest first.
    initial_reports: tuple[ReportRef, ...]
    annual_reports: tuple[ReportRef, ...]
    obligations: tuple[ObligationView, ...]
    extension_requests: tuple[RequestView, ...]
    facts: tuple[FactView, ...]


def state_profile(ledger: Ledger, iso3: str, as_of: date) -> StateProfile:
    record = ledger.states.get(iso3) or StateRecord(iso3)
    overdue = [o for o in overdue_initial(ledger, as_of) if o.iso3 == iso3]
    initial = [report_ref(e) for e in record.initial_reports.values() if _by(e, as_of)]
    annual = [
        report_ref(e)
        for year in sorted(record.annual_reports)
        for e in sorted(record.annual_reports[year].values(), key=_event_order)
        if _by(e, as_of)
    ]
    requests = requests_of(ledger, iso3)
    return StateProfile(
        iso3=iso3,
        as_of=as_of,
        status=state_status(ledger, iso3, as_of),
        initial_report_due=initial_report_due_for(ledger, iso3),
        initial_overdue=overdue[0] if overdue else None,
        initial_reports=tuple(sorted(initial, key=_submitted_order)),
        annual_reports=tuple(annual),
        obligations=obligations(ledger, iso3, as_of),
        extension_requests=tuple(r for r in requests if r.submitted.not_before <= as_of),
        facts=tuple(
            _fact_view(e) for e in sorted(record.facts.values(), key=_event_order) if _by(e, as_of)
        ),
    )


def _by(event: Fact, as_of: date) -> bool:
    return event.occurred_on.not_before <= as_of


def _submitted_order(report: ReportRef) -> tuple[date, date, str]:
    return (report.submitted.not_before, report.submitted.not_after, str(report.event_id))


def _event_order(event: Fact) -> tuple[date, date, datetime, int, str]:
    when = event.occurred_on
    position = event.position or 0
    return (when.not_before, when.not_after, event.recorded_at, position, str(event.event_id))


def _fact_view(event: Fact) -> FactView:
    payload = cast(StateFactReported, event.payload)
    return FactView(
        fact=payload.fact,
        period_start=payload.period_start,
        period_end=payload.period_end,
        detail=payload.detail,
        reported_on=event.occurred_on,
        source=event.source,
        event_id=event.event_id,
    )


@dataclass(frozen=True)
class TimelineEntry:
    occurred_on: DateRange
    type: str
    summary: str
    source: str
    recorded_at: datetime
    event_id: uuid.UUID
    #: Reasons of the corrections in effect on this fact, oldest first.
    corrections: tuple[str, ...] = ()


def timeline(ledger: Ledger, iso3: str) -> tuple[TimelineEntry, ...]:
    """Every fact in effect about the State, in order of when it happened."""
    record = ledger.states.get(iso3)
    if record is None:
        return ()
    events: list[Fact] = [
        *record.signatures.values(),
        *record.deposits.values(),
        *record.withdrawals.values(),
        *record.initial_reports.values(),
        *(e for facts in record.annual_reports.values() for e in facts.values()),
        *(e for facts in record.obligations.values() for e in facts.values()),
        *(e for facts in record.compliance.values() for e in facts.values()),
        *(e for facts in record.extension_requests.values() for e in facts.values()),
        *(e for facts in record.extension_decisions.values() for e in facts.values()),
        *record.facts.values(),
    ]
    return tuple(
        TimelineEntry(
            occurred_on=event.occurred_on,
            type=event.type,
            summary=summarize(event),
            source=event.source,
            recorded_at=event.recorded_at,
            event_id=event.event_id,
            corrections=tuple(
                getattr(c.payload, "reason", "") for c in ledger.corrections_of(event.event_id)
            ),
        )
        for event in sorted(events, key=_event_order)
    )


def summarize(event: Fact) -> str:
    """One plain-English line for a State event (front ends may word it their own way)."""
    p = event.payload
    if isinstance(p, StateSigned):
        return "signed the Convention"
    if isinstance(p, ConsentDeposited):
        return f"deposited its instrument of {p.instrument}"
    if isinstance(p, WithdrawalNotified):
        return "instrument of withdrawal received by the Depositary" + _opt(
            ", effective ", p.effective_on
        )
    if isinstance(p, InitialReportSubmitted):
        return "submitted its initial Article 7 report" + _form(p.form_version)
    if isinstance(p, AnnualReportSubmitted):
        return f"submitted its annual Article 7 report for {p.year_covered}" + _form(p.form_version)
    if isinstance(p, ObligationDeclared):
        return f"has an {_article(p.article, p.obligation)} obligation" + _opt(
            ", hostilities ended ", p.hostilities_ended_on
        )
    if isinstance(p, ComplianceDeclared):
        return f"declared compliance with {_article(p.article, p.obligation)}" + _opt(
            " at ", p.meeting
        )
    if isinstance(p, ExtensionRequested):
        return (
            f"requested an extension of its {_article(p.article, p.obligation)} deadline"
            + _opt(" to ", p.requested_deadline)
            + f", for {p.meeting}"
        )
    if isinstance(p, ExtensionDecided):
        return (
            f"{p.meeting} {p.outcome} the extension of its {_article(p.article, p.obligation)}"
            " deadline" + _opt(" to ", p.granted_deadline)
        )
    if isinstance(p, StateFactReported):
        return p.fact.replace("_", " ") + _opt(": ", p.detail)
    return event.type


def _article(article: int, obligation: str) -> str:
    return f"Article {article}" + ("" if obligation == "main" else f" ({obligation})")


def _opt(prefix: str, value: date | str | None) -> str:
    if value is None:
        return ""
    return prefix + (value if isinstance(value, str) else value.isoformat())


def _form(form_version: str | None) -> str:
    return "" if form_version is None else f" ({form_version} form)"
