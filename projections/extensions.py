"""Extension requests under Articles 3 and 4: timeliness, decisions and coming filing cut-offs.

A request is due nine calendar months before the meeting that considers it (Arts. 3(5), 4(6));
the meeting's current start date is used, so a rescheduled meeting moves its cut-off. An
Article 4 request must also be submitted before the deadline in force expires (Art. 4(6));
`before_deadline_expiry` is given for Article 3 requests too, for information.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Literal, cast

from dateutil.relativedelta import relativedelta

from events.dates import DateRange
from events.facts import Fact
from events.schema import ExtensionDecided, ExtensionRequested
from projections.calendar import Timeliness, extension_filing_cutoff, filing_timeliness
from projections.ledger import Ledger, ObligationKey, StateRecord
from projections.meetings import MeetingView, meeting, meetings
from projections.membership import earliest, membership
from projections.obligations import deadline_in_force, obligations


@dataclass(frozen=True)
class DecisionView:
    outcome: Literal["granted", "refused"]
    granted_deadline: date | None
    decided_on: DateRange


@dataclass(frozen=True)
class RequestView:
    iso3: str
    article: int
    obligation: str
    meeting: str
    submitted: DateRange
    #: None when the meeting's dates are not recorded (then timeliness is "unknown").
    meeting_start: date | None
    cutoff: date | None
    timeliness: Timeliness
    #: The deadline in force when the request was submitted (extensions decided before it).
    deadline_at_submission: date | None
    #: Submitted on or before that deadline; None when the range straddles it or no deadline
    #: is known.
    before_deadline_expiry: bool | None
    requested_deadline: date | None
    decision: DecisionView | None
    event_id: uuid.UUID


def requests_for_meeting(ledger: Ledger, meeting_id: str) -> tuple[RequestView, ...]:
    """Every request to be considered at `meeting_id`, by State, article and obligation."""
    views = [v for v in _all_requests(ledger) if v.meeting == meeting_id]
    return tuple(sorted(views, key=_request_order))


def requests_of(ledger: Ledger, iso3: str) -> tuple[RequestView, ...]:
    """Every request a State made, oldest first."""
    record = ledger.states.get(iso3)
    if record is None:
        return ()
    views = list(_requests(ledger, record))
    return tuple(sorted(views, key=lambda v: (v.submitted.not_after, *_request_order(v))))


def _request_order(view: RequestView) -> tuple[str, int, str, str]:
    return (view.iso3, view.article, view.obligation, str(view.event_id))


def _all_requests(ledger: Ledger) -> Iterator[RequestView]:
    for record in ledger.states.values():
        yield from _requests(ledger, record)


def _requests(ledger: Ledger, record: StateRecord) -> Iterator[RequestView]:
    member = membership(record, ledger.profile)
    eif = None if member.entry_into_force is None else member.entry_into_force.not_after
    for key, requests in record.extension_requests.items():
        for event in requests.values():
            yield _request_view(ledger, record, key, event, eif)


def _request_view(
    ledger: Ledger, record: StateRecord, key: ObligationKey, event: Fact, eif: date | None
) -> RequestView:
    payload = cast(ExtensionRequested, event.payload)
    submitted = event.occurred_on
    found = meeting(ledger, payload.meeting)
    start = None if found is None else found.start_date
    cutoff = None if start is None else extension_filing_cutoff(start, ledger.profile)
    timeliness: Timeliness = "unknown" if cutoff is None else filing_timeliness(submitted, cutoff)
    deadline = deadline_in_force(record, key, eif, submitted.not_before, ledger.profile)
    before_expiry: bool | None = None
    if deadline is not None:
        if submitted.not_after <= deadline:
            before_expiry = True
        elif submitted.not_before > deadline:
            before_expiry = False
    return RequestView(
        iso3=record.iso3,
        article=key[0],
        obligation=key[1],
        meeting=payload.meeting,
        submitted=submitted,
        meeting_start=start,
        cutoff=cutoff,
        timeliness=timeliness,
        deadline_at_submission=deadline,
        before_deadline_expiry=before_expiry,
        requested_deadline=payload.requested_deadline,
        decision=_decision(record, key, payload.meeting),
        event_id=event.event_id,
    )


def _decision(record: StateRecord, key: ObligationKey, meeting_id: str) -> DecisionView | None:
    decisions = {
        k: e
        for k, e in record.extension_decisions.get(key, {}).items()
        if cast(ExtensionDecided, e.payload).meeting == meeting_id
    }
    event = earliest(decisions)
    if event is None:
        return None
    payload = cast(ExtensionDecided, event.payload)
    return DecisionView(payload.outcome, payload.granted_deadline, event.occurred_on)


@dataclass(frozen=True)
class Cutoff:
    iso3: str
    article: int
    obligation: str
    deadline_in_force: date
    meeting: str
    meeting_start: date
    #: Nine months before the meeting opens.
    cutoff: date
    #: The day to file by: the cut-off, or for Article 4 the deadline itself if that is earlier.
    file_by: date
    #: The meeting opens after the deadline expires (as 12MSP did for Chad's 2024 deadline).
    meeting_after_deadline: bool
    #: A request for this meeting is already recorded as submitted by `as_of`.
    request_filed: bool


def upcoming_cutoffs(ledger: Ledger, as_of: date) -> tuple[Cutoff, ...]:
    """Filing cut-offs still ahead for every open Article 3 or 4 obligation whose deadline
    expires before the meeting after next, ordered by the day to file by.

    The request goes to the next meeting (the first opening after `as_of`): a deadline that
    expires before the meeting after next cannot wait for it. When only one future meeting is
    recorded, the meeting after next is assumed one meeting cycle later. A cut-off already
    passed is not "upcoming" and is left out (the request would be late; `requests_for_meeting`
    says so once it is recorded). Without a future meeting, nothing can be computed: empty.
    """
    future = [m for m in meetings(ledger) if m.start_date > as_of]
    if not future:
        return ()
    following = _meeting_after(future, ledger.profile.meeting_cycle_months)
    target = future[0]
    cutoff = extension_filing_cutoff(target.start_date, ledger.profile)
    if cutoff < as_of:
        return ()
    found: list[Cutoff] = []
    for iso3 in sorted(ledger.states):
        record = ledger.states[iso3]
        for view in obligations(ledger, iso3, as_of):
            deadline = view.deadline_in_force
            if view.article not in (3, 4) or view.status != "open" or deadline is None:
                continue
            if deadline >= following:
                continue
            key = (view.article, view.obligation)
            file_by = min(cutoff, deadline) if view.article == 4 else cutoff
            found.append(
                Cutoff(
                    iso3=iso3,
                    article=view.article,
                    obligation=view.obligation,
                    deadline_in_force=deadline,
                    meeting=target.meeting,
                    meeting_start=target.start_date,
                    cutoff=cutoff,
                    file_by=file_by,
                    meeting_after_deadline=target.start_date > deadline,
                    request_filed=_filed(record, key, target.meeting, as_of),
                )
            )
    return tuple(sorted(found, key=lambda c: (c.file_by, c.iso3, c.article, c.obligation)))


def _meeting_after(future: list[MeetingView], cycle_months: int) -> date:
    if len(future) > 1:
        return future[1].start_date
    return future[0].start_date + relativedelta(months=cycle_months)


def _filed(record: StateRecord, key: ObligationKey, meeting_id: str, as_of: date) -> bool:
    return any(
        cast(ExtensionRequested, e.payload).meeting == meeting_id
        and e.occurred_on.not_after <= as_of
        for e in record.extension_requests.get(key, {}).values()
    )
