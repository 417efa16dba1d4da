"""Article 3 (stockpiles), 4 (clearance) and 5 (victims) obligations, deadlines and compliance.

Deadlines are computed, never stored: Art. 3 runs eight years and Art. 4 ten years from entry
into force; a later contamination (Art. 4(1)(b)) runs ten years from the end of the active
hostilities; Art. 5 has no deadline. The deadline in force at `as_of` is the one set by the
latest extension granted by a decision dated by then.

An obligation is listed when the data names it: by an `obligation.declared` event or, where a
source only reports a request, decision or declaration of compliance, by that event alone.
A State whose withdrawal has taken effect has no obligations left.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal, cast

from events.dates import DateRange
from events.schema import (
    ComplianceDeclared,
    CoverageDeclared,
    ExtensionDecided,
    ObligationDeclared,
)
from projections.calendar import art3_deadline, art4_deadline, art4_later_deadline
from projections.ledger import Facts, Ledger, ObligationKey, StateRecord
from projections.membership import earliest, membership
from projections.profile import ConventionProfile

#: "overdue" is said only where the data declares it holds every extension decision; elsewhere
#: a passed deadline is "deadline_passed": an extension may exist that the data does not record.
ObligationStatus = Literal["open", "complied", "overdue", "deadline_passed"]
Basis = Literal["at_entry_into_force", "later_contamination"]


@dataclass(frozen=True)
class GrantedExtension:
    meeting: str
    deadline: date
    decided_on: date


@dataclass(frozen=True)
class ObligationView:
    iso3: str
    article: int
    obligation: str
    basis: Basis
    #: When a source first named the obligation; None when only a request or declaration did.
    declared_on: DateRange | None
    original_deadline: date | None
    deadline_in_force: date | None
    #: Granted by decisions dated by `as_of`, oldest first.
    extensions_granted: tuple[GrantedExtension, ...]
    compliance_declared_on: date | None
    #: "overdue": the deadline in force has passed without a declaration of compliance.
    status: ObligationStatus


def obligations(ledger: Ledger, iso3: str, as_of: date) -> tuple[ObligationView, ...]:
    """The State's obligations at `as_of`, by article and obligation key."""
    record = ledger.states.get(iso3)
    if record is None:
        return ()
    member = membership(record, ledger.profile)
    if member.is_withdrawn(as_of):
        return ()
    eif = None if member.entry_into_force is None else member.entry_into_force.not_after
    complete = extensions_recorded_completely(ledger, as_of)
    views = (_view(record, key, eif, as_of, ledger.profile, complete) for key in _keys(record))
    return tuple(v for v in views if v is not None)


def open_obligations(ledger: Ledger, article: int, as_of: date) -> tuple[ObligationView, ...]:
    """Obligations under `article` not declared fulfilled by `as_of` (open or overdue)."""
    return tuple(
        view
        for iso3 in sorted(ledger.states)
        for view in obligations(ledger, iso3, as_of)
        if view.article == article and view.status != "complied"
    )


@dataclass(frozen=True)
class ComplianceView:
    iso3: str
    article: int
    obligation: str
    declared_on: DateRange
    meeting: str | None
    #: The declaration's date range only partly overlaps the period asked about.
    uncertain: bool


def compliance_declared_between(
    ledger: Ledger, article: int, start: date, end: date
) -> tuple[ComplianceView, ...]:
    """Declarations of compliance under `article` made from `start` to `end` inclusive; those
    whose date range only partly overlaps the period follow, marked uncertain."""
    certain: list[ComplianceView] = []
    partial: list[ComplianceView] = []
    for iso3 in sorted(ledger.states):
        record = ledger.states[iso3]
        for key in sorted(record.compliance):
            if key[0] != article:
                continue
            for event in record.compliance[key].values():
                when = event.occurred_on
                meeting = cast(ComplianceDeclared, event.payload).meeting
                if start <= when.not_before and when.not_after <= end:
                    certain.append(ComplianceView(iso3, key[0], key[1], when, meeting, False))
                elif when.not_before <= end and when.not_after >= start:
                    partial.append(ComplianceView(iso3, key[0], key[1], when, meeting, True))
    return tuple(certain) + tuple(partial)


def _keys(record: StateRecord) -> list[ObligationKey]:
    keys = (
        set(record.obligations)
        | set(record.compliance)
        | set(record.extension_requests)
        | set(record.extension_decisions)
    )
    return sorted(keys)


def _view(
    record: StateRecord,
    key: ObligationKey,
    eif: date | None,
    as_of: date,
    profile: ConventionProfile,
    extensions_complete: bool,
) -> ObligationView | None:
    article, obligation = key
    declared = earliest(record.obligations.get(key, {}))
    basis: Basis = "at_entry_into_force"
    if declared is not None:
        payload = cast(ObligationDeclared, declared.payload)
        basis = payload.basis
        ended = payload.hostilities_ended_on
        if ended is not None and ended > as_of:
            return None  # the later contamination has not arisen yet at `as_of`
    granted = granted_extensions(record.extension_decisions.get(key, {}), as_of)
    deadline = deadline_in_force(record, key, eif, as_of, profile)
    complied = earliest(record.compliance.get(key, {}))
    complied_on = None
    if complied is not None and complied.occurred_on.not_after <= as_of:
        complied_on = complied.occurred_on.not_after
    status: ObligationStatus
    if complied_on is not None:
        status = "complied"
    elif deadline is not None and as_of > deadline:
        status = "overdue" if extensions_complete else "deadline_passed"
    else:
        status = "open"
    return ObligationView(
        iso3=record.iso3,
        article=article,
        obligation=obligation,
        basis=basis,
        declared_on=None if declared is None else declared.occurred_on,
        original_deadline=obligation_deadline(record, key, eif, profile),
        deadline_in_force=deadline,
        extensions_granted=granted,
        compliance_declared_on=complied_on,
        status=status,
    )


def extensions_recorded_completely(ledger: Ledger, as_of: date) -> bool:
    """Whether a `coverage.declared` for "extensions" spans the Convention's whole life up to
    `as_of`: only then does a missing decision mean that there was none."""
    since = ledger.profile.convention_entry_into_force
    for event in ledger.coverage.values():
        payload = cast(CoverageDeclared, event.payload)
        covers = payload.period_start <= since and as_of <= payload.period_end
        if payload.subject == "extensions" and covers:
            return True
    return False


def obligation_deadline(
    record: StateRecord, key: ObligationKey, eif: date | None, profile: ConventionProfile
) -> date | None:
    """The obligation's deadline before any extension."""
    declared = earliest(record.obligations.get(key, {}))
    ended = None
    if declared is not None:
        ended = cast(ObligationDeclared, declared.payload).hostilities_ended_on
    return original_deadline(key[0], eif, ended, profile)


def deadline_in_force(
    record: StateRecord,
    key: ObligationKey,
    eif: date | None,
    as_of: date,
    profile: ConventionProfile,
) -> date | None:
    """The deadline set by the latest extension granted by `as_of`, else the original one."""
    granted = granted_extensions(record.extension_decisions.get(key, {}), as_of)
    return granted[-1].deadline if granted else obligation_deadline(record, key, eif, profile)


def original_deadline(
    article: int,
    eif: date | None,
    hostilities_ended_on: date | None,
    profile: ConventionProfile,
) -> date | None:
    """The deadline before any extension; None for Art. 5 and before entry into force."""
    if article == 4 and hostilities_ended_on is not None:
        return art4_later_deadline(hostilities_ended_on, profile)
    if eif is None:
        return None
    if article == 3:
        return art3_deadline(eif, profile)
    if article == 4:
        return art4_deadline(eif, profile)
    return None


def granted_extensions(decisions: Facts, as_of: date) -> tuple[GrantedExtension, ...]:
    """Extensions granted by decisions certainly taken by `as_of`, in order of decision."""
    granted = []
    for event in decisions.values():
        payload = cast(ExtensionDecided, event.payload)
        decided_on = event.occurred_on.not_after
        if payload.granted_deadline is not None and decided_on <= as_of:
            granted.append(GrantedExtension(payload.meeting, payload.granted_deadline, decided_on))
    return tuple(sorted(granted, key=lambda g: (g.decided_on, g.deadline, g.meeting)))
