"""Who is in, as of a date: signature, consent, entry into force and withdrawal (Arts. 15–17, 20).

Two numbers are kept apart, as the ISU and UNTC do: States Parties count from their deposit
(`parties`), and the Convention binds them from entry into force (`bound`), which is always
computed from the deposit date and the profile, never stored.

A fact counts at `as_of` when it certainly happened by then (`DateRange.not_after <= as_of`);
when its recorded range straddles `as_of`, it does not count and the result says `uncertain`.
Dates shown are the latest possible day of each range (the exact day when the source is exact,
as every known membership source is).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Literal, cast, get_args

from events.dates import DateRange
from events.facts import Fact
from events.schema import ConsentDeposited, InstrumentKind, WithdrawalNotified
from projections.calendar import entry_into_force, withdrawal_effective
from projections.ledger import Facts, Ledger, StateRecord
from projections.profile import ConventionProfile

Status = Literal["not_signed", "signatory", "state_party", "bound", "withdrawn"]
CountWhat = Literal["parties", "bound", "signatories", "signed", "signed_or_joined", "withdrawn"]
COUNTS: tuple[str, ...] = get_args(CountWhat)


def earliest(facts: Facts) -> Fact | None:
    """The fact that certainly happened first (a State may be recorded twice by two sources)."""
    best: Fact | None = None
    for event in facts.values():
        if best is None or _order(event) < _order(best):
            best = event
    return best


def _order(event: Fact) -> tuple[date, date, str]:
    return (event.occurred_on.not_after, event.occurred_on.not_before, str(event.event_id))


@dataclass(frozen=True)
class Membership:
    """A State's membership dates, independent of any as-of date."""

    iso3: str
    signed: DateRange | None
    deposited: DateRange | None
    instrument: InstrumentKind | None
    #: Computed from the deposit: a range only when the deposit date is a range.
    entry_into_force: DateRange | None
    withdrawal_received: DateRange | None
    withdrawal_effective: DateRange | None

    def is_withdrawn(self, as_of: date) -> bool:
        return _by(self.withdrawal_effective, as_of)

    def is_party(self, as_of: date) -> bool:
        return _by(self.deposited, as_of) and not self.is_withdrawn(as_of)

    def is_bound(self, as_of: date) -> bool:
        return _by(self.entry_into_force, as_of) and not self.is_withdrawn(as_of)

    def is_uncertain(self, as_of: date) -> bool:
        """Some date behind the status at `as_of` is a range that straddles it."""
        ranges = (
            self.signed,
            self.deposited,
            self.entry_into_force,
            self.withdrawal_received,
            self.withdrawal_effective,
        )
        return any(r is not None and r.straddles(as_of) for r in ranges)


def _by(when: DateRange | None, as_of: date) -> bool:
    return when is not None and when.not_after <= as_of


def _day(when: DateRange | None) -> date | None:
    return None if when is None else when.not_after


def membership(record: StateRecord, profile: ConventionProfile) -> Membership:
    signature = earliest(record.signatures)
    deposit = earliest(record.deposits)
    withdrawal = earliest(record.withdrawals)
    deposited = eif = instrument = None
    if deposit is not None:
        deposited = deposit.occurred_on
        instrument = cast(ConsentDeposited, deposit.payload).instrument
        eif = DateRange(
            entry_into_force(deposited.not_before, profile),
            entry_into_force(deposited.not_after, profile),
        )
    received = effective = None
    if withdrawal is not None:
        received = withdrawal.occurred_on
        effective_on = cast(WithdrawalNotified, withdrawal.payload).effective_on
        effective = (
            DateRange.exact(effective_on)
            if effective_on is not None
            else DateRange(
                withdrawal_effective(received.not_before, profile),
                withdrawal_effective(received.not_after, profile),
            )
        )
    return Membership(
        iso3=record.iso3,
        signed=None if signature is None else signature.occurred_on,
        deposited=deposited,
        instrument=instrument,
        entry_into_force=eif,
        withdrawal_received=received,
        withdrawal_effective=effective,
    )


def memberships(ledger: Ledger) -> Iterator[Membership]:
    """Every State with at least one membership fact, in ISO3 order."""
    for iso3 in sorted(ledger.states):
        record = ledger.states[iso3]
        if record.signatures or record.deposits or record.withdrawals:
            yield membership(record, ledger.profile)


def membership_of(ledger: Ledger, iso3: str) -> Membership | None:
    record = ledger.states.get(iso3)
    return None if record is None else membership(record, ledger.profile)


@dataclass(frozen=True)
class StateStatus:
    iso3: str
    as_of: date
    status: Status
    #: Each date is shown only once it has happened by `as_of`; entry into force and the
    #: withdrawal's effect are shown from the deposit and the receipt on, even if still ahead.
    signed_on: date | None
    deposit_date: date | None
    instrument: InstrumentKind | None
    entry_into_force: date | None
    withdrawal_received: date | None
    withdrawal_effective: date | None
    is_party: bool
    is_bound: bool
    #: A recorded date range straddles `as_of`: the status is the one certain by then.
    uncertain: bool


def state_status(ledger: Ledger, iso3: str, as_of: date) -> StateStatus:
    member = membership_of(ledger, iso3) or Membership(iso3, None, None, None, None, None, None)
    return status_of(member, as_of)


def status_of(member: Membership, as_of: date) -> StateStatus:
    signed = _by(member.signed, as_of)
    deposited = _by(member.deposited, as_of)
    received = _by(member.withdrawal_received, as_of)
    status: Status
    if member.is_withdrawn(as_of):
        status = "withdrawn"
    elif member.is_bound(as_of):
        status = "bound"
    elif deposited:
        status = "state_party"
    elif signed:
        status = "signatory"
    else:
        status = "not_signed"
    return StateStatus(
        iso3=member.iso3,
        as_of=as_of,
        status=status,
        signed_on=_day(member.signed) if signed else None,
        deposit_date=_day(member.deposited) if deposited else None,
        instrument=member.instrument if deposited else None,
        entry_into_force=_day(member.entry_into_force) if deposited else None,
        withdrawal_received=_day(member.withdrawal_received) if received else None,
        withdrawal_effective=_day(member.withdrawal_effective) if received else None,
        is_party=member.is_party(as_of),
        is_bound=member.is_bound(as_of),
        uncertain=member.is_uncertain(as_of),
    )


@dataclass(frozen=True)
class StateRef:
    """A State and the date that puts it in a list (deposit, entry into force, signature…)."""

    iso3: str
    date: date


@dataclass(frozen=True)
class CountResult:
    what: CountWhat
    as_of: date
    value: int
    #: In ISO3 order; `value == len(items)`.
    items: tuple[StateRef, ...]
    #: States left out because a date range straddles `as_of` (they may belong in `items`).
    uncertain: tuple[str, ...] = ()


def count(ledger: Ledger, what: CountWhat, as_of: date) -> CountResult:
    """How many States are in a category as of a date, and which.

    - parties: deposited, withdrawal not yet effective (the ISU/UNTC "States Parties")
    - bound: in force for them, withdrawal not yet effective
    - signatories: signed, not (yet) deposited, not withdrawn
    - signed: every signature, ratified or not, not withdrawn (the UNTC "Signatories")
    - signed_or_joined: signed, ratified or acceded, not withdrawn
    - withdrawn: withdrawal effective
    """
    if what not in COUNTS:
        raise ValueError(f"cannot count {what!r}; choose one of {', '.join(COUNTS)}")
    items: list[StateRef] = []
    uncertain: list[str] = []
    for member in memberships(ledger):
        day = _counted_on(member, what, as_of)
        if day is not None:
            items.append(StateRef(member.iso3, day))
        elif member.is_uncertain(as_of):
            uncertain.append(member.iso3)
    return CountResult(what, as_of, len(items), tuple(items), tuple(uncertain))


def _counted_on(member: Membership, what: CountWhat, as_of: date) -> date | None:
    """The date that puts `member` in `what` at `as_of`, or None when it is not in it."""
    if what == "withdrawn":
        return _day(member.withdrawal_effective) if member.is_withdrawn(as_of) else None
    if member.is_withdrawn(as_of):
        return None
    signed = _day(member.signed) if _by(member.signed, as_of) else None
    deposited = _day(member.deposited) if _by(member.deposited, as_of) else None
    if what == "parties":
        return deposited
    if what == "bound":
        return _day(member.entry_into_force) if member.is_bound(as_of) else None
    if what == "signatories":
        return signed if deposited is None else None
    if what == "signed":
        return signed
    return signed or deposited  # signed_or_joined


@dataclass(frozen=True)
class Joined:
    iso3: str
    deposit_date: date
    instrument: InstrumentKind | None
    entry_into_force: date


@dataclass(frozen=True)
class Left:
    iso3: str
    withdrawal_received: date
    withdrawal_effective: date


def joined_between(ledger: Ledger, start: date, end: date) -> tuple[Joined, ...]:
    """Instruments deposited from `start` to `end` inclusive, in deposit order."""
    joined = [
        Joined(m.iso3, m.deposited.not_after, m.instrument, m.entry_into_force.not_after)
        for m in memberships(ledger)
        if m.deposited is not None
        and m.entry_into_force is not None
        and start <= m.deposited.not_after <= end
    ]
    return tuple(sorted(joined, key=lambda j: (j.deposit_date, j.iso3)))


def left_between(ledger: Ledger, start: date, end: date) -> tuple[Left, ...]:
    """Withdrawals that took effect from `start` to `end` inclusive, in order of effect."""
    left = [
        Left(m.iso3, m.withdrawal_received.not_after, m.withdrawal_effective.not_after)
        for m in memberships(ledger)
        if m.withdrawal_received is not None
        and m.withdrawal_effective is not None
        and start <= m.withdrawal_effective.not_after <= end
    ]
    return tuple(sorted(left, key=lambda w: (w.withdrawal_effective, w.iso3)))
