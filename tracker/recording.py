"""Commands that record new events, after checking the treaty's rules against what is known.

Every write goes through `Recorder.record`: the actor's role is checked, the event is built and
validated, domain rules are checked against the current ledger, and only then is it appended
with the stream's expected version (a concurrent writer makes it fail, nothing half-stored).
`Recorder.preview` runs every check without storing, so a front end can show the event first.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import cast

from pydantic import ValidationError

from events.dates import DateRange
from events.errors import ConcurrencyError, InvalidEvent
from events.facts import Fact
from events.schema import (
    AnnualReportSubmitted,
    ComplianceDeclared,
    ConsentDeposited,
    Event,
    EventCorrected,
    EventRetracted,
    ExtensionDecided,
    ExtensionRequested,
    InitialReportSubmitted,
    MeetingRescheduled,
    MeetingScheduled,
    ObligationDeclared,
    Payload,
    StatePayload,
    StateSigned,
    WithdrawalNotified,
    describe_validation_error,
    new_event,
)
from projections.calendar import withdrawal_effective
from projections.ledger import Ledger
from projections.membership import membership_of
from tracker.aliases import display_name
from tracker.config import Role
from tracker.service import TrackerService

#: Art. 15: open for signature from 3 December 2008 until entry into force (1 August 2010).
SIGNATURE_OPENED = date(2008, 12, 3)
SIGNATURE_CLOSED = date(2010, 7, 31)


class PermissionDenied(PermissionError):
    """The actor's role does not allow writing."""


class RuleViolation(InvalidEvent):
    """The event is well-formed but contradicts what is recorded (the message says what)."""


@dataclass(frozen=True)
class Actor:
    """Who is writing: shown as `recorded_by` on every event they record."""

    name: str
    role: Role

    def require_recorder(self) -> None:
        if not self.role.can_record():
            raise PermissionDenied(
                f"{self.name} has the role {self.role.value}; recording needs recorder or admin"
            )


class Recorder:
    """The write side of the tracker."""

    def __init__(self, service: TrackerService) -> None:
        self.service = service

    def preview(
        self, actor: Actor, payload: Payload, occurred_on: DateRange | date | str, source: str
    ) -> Event:
        """Build and check the event exactly as `record` would, without storing it."""
        actor.require_recorder()
        stream = None
        if isinstance(payload, (EventRetracted, EventCorrected)):
            # A correction lives in its target's stream, so the stream's history reads whole.
            target = self.service.store.get(str(payload.target_event_id))
            if target is None:
                raise RuleViolation(
                    f"payload.target_event_id: no event {payload.target_event_id} is recorded; "
                    "copy the id from the State's timeline"
                )
            stream = target.stream
        event = new_event(
            payload,
            occurred_on=occurred_on,
            recorded_at=self.service.clock.now(),
            recorded_by=actor.name,
            source=source,
            stream=stream,
            convention=self.service.profile.key,
        )
        self._check(event)
        return event

    def record(
        self,
        actor: Actor,
        payload: Payload,
        occurred_on: DateRange | date | str,
        source: str,
        event_id: uuid.UUID | None = None,
    ) -> Event:
        """Check and append one event; returns it as stored (with version and position)."""
        event = self.preview(actor, payload, occurred_on, source)
        if event_id is not None:
            event = event.model_copy(update={"event_id": event_id})
        return self.commit(event)

    def commit(self, event: Event) -> Event:
        """Append a previewed event (re-checked: the world may have moved since the preview)."""
        self._check(event)
        store = self.service.store
        version = store.stream_version(event.stream)
        try:
            stored = store.append(event.stream, [event], expected_version=version)
        except ConcurrencyError:
            # Someone wrote to the same stream since we read it: check again on fresh data.
            self.service.refresh()
            self._check(event)
            stored = store.append(event.stream, [event], store.stream_version(event.stream))
        self.service.refresh()
        return stored[0] if stored else event

    # --- rules ------------------------------------------------------------------------------

    def _check(self, event: Event) -> None:
        book = RuleBook(self.service.known().ledger, self.service.today(), self.service.store.get)
        book.check(event)


class RuleBook:
    """The treaty's rules for one new event, against what a ledger knows.

    Shared by the recording path (one event against the store's current ledger) and by the
    importer (each new event of a file, in file order, against the ledger folded so far).
    """

    def __init__(self, ledger: Ledger, today: date, lookup: Callable[[str], Event | None]) -> None:
        self.ledger = ledger
        self.today = today
        self.lookup = lookup

    def check(self, event: Event) -> None:
        """Raise RuleViolation naming the problem, or return when the event may be stored."""
        today = self.today
        when = event.occurred_on
        if when.not_before > today and not isinstance(
            event.payload, (MeetingScheduled, MeetingRescheduled)
        ):
            raise RuleViolation(
                f"occurred_on: {when} is in the future (today is {today.isoformat()}); record "
                "facts once they have happened"
            )
        ledger = self.ledger
        payload = event.payload
        if isinstance(payload, StatePayload) and not isinstance(payload, StateSigned):
            self._check_state_fact(ledger, event, payload)
        elif isinstance(payload, StateSigned):
            _check_signature(ledger, event, payload)
        elif isinstance(payload, EventCorrected) and payload.payload is not None:
            _check_correction(self.lookup, payload)

    def _check_state_fact(self, ledger: Ledger, event: Event, payload: StatePayload) -> None:
        iso3 = payload.state
        name = f"{display_name(iso3)} ({iso3})"
        member = membership_of(ledger, iso3)
        when = event.occurred_on
        record = ledger.states.get(iso3)

        def others(facts: Mapping[int, Fact] | None) -> list[Fact]:
            # The ledger may already hold this very event (an import checks each event against
            # the rest of its file): a fact is never its own duplicate.
            return [e for e in (facts or {}).values() if e.key != event.key]

        if isinstance(payload, ConsentDeposited):
            earlier = others(None if record is None else record.deposits)
            if earlier:
                raise RuleViolation(
                    f"payload.state: {name} already deposited its instrument on "
                    f"{earlier[0].occurred_on}; record a correction if that date is wrong"
                )
            return
        deposited = None if member is None else member.deposited
        if deposited is None or record is None:
            raise RuleViolation(
                f"payload.state: {name} has no recorded instrument of ratification or accession;"
                " it is not a State Party"
            )
        if when.not_after < deposited.not_before:
            raise RuleViolation(
                f"occurred_on: {when} is before {name} deposited its instrument ({deposited})"
            )
        if isinstance(payload, WithdrawalNotified):
            if others(record.withdrawals):
                raise RuleViolation(f"payload.state: {name} has already notified its withdrawal")
            effective = payload.effective_on or withdrawal_effective(when.not_after)
            if effective < withdrawal_effective(when.not_before):
                raise RuleViolation("payload.effective_on: earlier than six months after receipt")
            return
        if isinstance(payload, InitialReportSubmitted):
            existing = others(record.initial_reports)
            if existing:
                raise RuleViolation(
                    f"payload: {name}'s initial report is already recorded "
                    f"({existing[0].occurred_on}, event {existing[0].event_id}); record a "
                    "correction instead"
                )
            return
        if isinstance(payload, AnnualReportSubmitted):
            year = payload.year_covered
            if deposited.not_before > date(year, 12, 31):
                raise RuleViolation(
                    f"payload.year_covered: {name} was not a State Party in {year} (instrument "
                    f"deposited {deposited})"
                )
            if (
                member is not None
                and member.withdrawal_effective is not None
                and (member.withdrawal_effective.not_after < date(year, 1, 1))
            ):
                raise RuleViolation(
                    f"payload.year_covered: {name}'s withdrawal took effect before {year}"
                )
            if when.not_after < date(year + 1, 1, 1):
                raise RuleViolation(
                    f"occurred_on: a report covering {year} cannot be submitted before "
                    f"{year + 1}-01-01 (it covers the whole calendar year)"
                )
            existing = others(record.annual_reports.get(year))
            if existing:
                raise RuleViolation(
                    f"payload: {name}'s annual report for {year} is already recorded "
                    f"({existing[0].occurred_on}, event {existing[0].event_id}); record a "
                    "correction instead"
                )
            return
        if isinstance(payload, ObligationDeclared):
            if others(record.obligations.get((payload.article, payload.obligation))):
                raise RuleViolation(
                    f"payload: {name}'s Article {payload.article} obligation "
                    f"'{payload.obligation}' is already recorded"
                )
            return
        if isinstance(payload, (ComplianceDeclared, ExtensionRequested, ExtensionDecided)):
            key = (payload.article, payload.obligation)
            if not others(record.obligations.get(key)):
                raise RuleViolation(
                    f"payload.article: {name} has no recorded Article {payload.article} "
                    f"obligation '{payload.obligation}'; record the obligation first"
                )
            complied = [
                e
                for e in others(record.compliance.get(key))
                if e.occurred_on.not_after <= when.not_after
            ]
            if complied:
                raise RuleViolation(
                    f"payload.article: {name} already declared compliance with Article "
                    f"{payload.article} on {complied[0].occurred_on}"
                )
            if isinstance(payload, ExtensionRequested):
                self._check_meeting(ledger, payload.meeting)
            if isinstance(payload, ExtensionDecided):
                self._check_meeting(ledger, payload.meeting)
                requests = others(record.extension_requests.get(key))
                if not any(
                    cast(ExtensionRequested, r.payload).meeting == payload.meeting for r in requests
                ):
                    raise RuleViolation(
                        f"payload.meeting: no extension request of {name} under Article "
                        f"{payload.article} is recorded for {payload.meeting}; record the "
                        "request first"
                    )
            return

    @staticmethod
    def _check_meeting(ledger: Ledger, meeting: str) -> None:
        if meeting not in ledger.meetings:
            known = ", ".join(sorted(ledger.meetings))
            raise RuleViolation(f"payload.meeting: {meeting} is not a recorded meeting ({known})")


def _check_signature(ledger: Ledger, event: Event, payload: StateSigned) -> None:
    name = f"{display_name(payload.state)} ({payload.state})"
    when = event.occurred_on
    if when.not_before < SIGNATURE_OPENED or when.not_after > SIGNATURE_CLOSED:
        raise RuleViolation(
            f"occurred_on: the Convention was open for signature from "
            f"{SIGNATURE_OPENED.isoformat()} to {SIGNATURE_CLOSED.isoformat()} (Art. 15); "
            f"{when} is outside that; a State joining later accedes"
        )
    record = ledger.states.get(payload.state)
    earlier = [] if record is None else list(record.signatures.values())
    if any(e.event_id != event.event_id for e in earlier):
        raise RuleViolation(f"payload.state: {name}'s signature is already recorded")


def _check_correction(lookup: Callable[[str], Event | None], correction: EventCorrected) -> None:
    """The corrected payload must be valid for the target's type (checked before storing)."""
    target = lookup(str(correction.target_event_id))
    if target is None or correction.payload is None:
        return
    merged = {**target.payload.model_dump(), **correction.payload}
    try:
        type(target.payload).model_validate(merged)
    except ValidationError as exc:
        raise RuleViolation(describe_validation_error(exc, prefix="payload.payload.")) from None
