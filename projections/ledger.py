"""The Ledger: every fact known at one knowledge time, folded per State, meeting and document.

`Ledger.apply` folds one more event in O(1) (plain dicts of the events themselves, keyed by
event id so a later retraction or correction can take one out); `Ledger.from_events` rebuilds
from zero. Both go through `projections.asof.Knowledge`, so both give equal `snapshot()`s.
The ledger holds no valid-time logic: queries in the sibling modules take `as_of` and read it.
"""

from __future__ import annotations

import uuid
from array import array
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from events.facts import Fact
from events.schema import (
    AggregatePublished,
    AnnualReportSubmitted,
    ComplianceDeclared,
    ConsentDeposited,
    CoverageDeclared,
    EventCorrected,
    EventRetracted,
    ExtensionDecided,
    ExtensionRequested,
    InitialReportSubmitted,
    MeetingRescheduled,
    MeetingScheduled,
    ObligationDeclared,
    StateFactReported,
    StateSigned,
    WithdrawalNotified,
)
from projections.asof import CORRECTED, RETRACTED, Knowledge
from projections.profile import CCM, ConventionProfile

#: (article, obligation key), e.g. (4, "main").
ObligationKey = tuple[int, str]
#: Facts keyed by `event_id.int` (hashed in C; see projections.asof).
Facts = dict[int, Fact]


@dataclass
class StateRecord:
    """Every fact in effect about one State, each kept as its (corrected) event."""

    iso3: str
    signatures: Facts = field(default_factory=dict)
    deposits: Facts = field(default_factory=dict)
    withdrawals: Facts = field(default_factory=dict)
    initial_reports: Facts = field(default_factory=dict)
    #: year covered -> reports; every report is kept (a State may send one twice).
    annual_reports: dict[int, Facts] = field(default_factory=dict)
    obligations: dict[ObligationKey, Facts] = field(default_factory=dict)
    compliance: dict[ObligationKey, Facts] = field(default_factory=dict)
    extension_requests: dict[ObligationKey, Facts] = field(default_factory=dict)
    extension_decisions: dict[ObligationKey, Facts] = field(default_factory=dict)
    facts: Facts = field(default_factory=dict)


@dataclass
class MeetingRecord:
    meeting: str
    scheduled: Facts = field(default_factory=dict)
    rescheduled: Facts = field(default_factory=dict)


def _year_covered(payload: Any) -> Hashable:
    year: int = payload.year_covered
    return year


def _obligation_key(payload: Any) -> Hashable:
    key: ObligationKey = (payload.article, payload.obligation)
    return key


#: type -> (StateRecord attribute, key of the sub-dict or None for a flat dict).
_STATE_SLOTS: dict[str, tuple[str, Callable[[Any], Hashable] | None]] = {
    StateSigned.TYPE: ("signatures", None),
    ConsentDeposited.TYPE: ("deposits", None),
    WithdrawalNotified.TYPE: ("withdrawals", None),
    InitialReportSubmitted.TYPE: ("initial_reports", None),
    AnnualReportSubmitted.TYPE: ("annual_reports", _year_covered),
    ObligationDeclared.TYPE: ("obligations", _obligation_key),
    ComplianceDeclared.TYPE: ("compliance", _obligation_key),
    ExtensionRequested.TYPE: ("extension_requests", _obligation_key),
    ExtensionDecided.TYPE: ("extension_decisions", _obligation_key),
    StateFactReported.TYPE: ("facts", None),
}
_MEETING_SLOTS = {MeetingScheduled.TYPE: "scheduled", MeetingRescheduled.TYPE: "rescheduled"}

#: Event types that feed State membership (signature, consent, withdrawal).
MEMBERSHIP_TYPES = frozenset({StateSigned.TYPE, ConsentDeposited.TYPE, WithdrawalNotified.TYPE})
#: Every type a State's record is made of.
STATE_TYPES = frozenset(_STATE_SLOTS)
MEETING_TYPES = frozenset(_MEETING_SLOTS)


@dataclass(frozen=True)
class Slice:
    """Which facts a question reads: these event types, about these States (None: all).

    Types that are not about a State (meetings, aggregates, coverage) ignore `states`.
    """

    types: frozenset[str]
    states: frozenset[str] | None = None


#: What a question reads, as a union of slices; None means everything.
Need = tuple[Slice, ...]


class _Index:
    """Where every event of the ledger of everything known sits, for `Ledger.as_known_at`.

    Sequence numbers (the order `apply` saw the events: position order) are kept per
    (type, State) for facts and per target for retractions and corrections.
    """

    __slots__ = ("by_target", "by_type", "mobile", "seen")

    def __init__(self) -> None:
        self.seen: list[Fact] = []
        #: type -> State (None for facts about no State) -> sequence numbers (4 bytes each in an
        #: array, not a 28-byte int object in a list: there is one per event).
        self.by_type: dict[str, dict[str | None, array[int]]] = {}
        #: target event_id.int -> sequence numbers of the retractions/corrections naming it.
        self.by_target: dict[int, list[int]] = {}
        #: Ids of facts a payload correction names: it may move them to another State.
        self.mobile: set[int] = set()

    def add(self, event: Fact) -> None:
        seq = len(self.seen)
        self.seen.append(event)
        type_name = event.type
        if type_name in (RETRACTED, CORRECTED):
            payload: Any = event.payload
            target = cast(EventRetracted | EventCorrected, payload).target_event_id.int
            found = self.by_target.get(target)
            if found is None:
                found = self.by_target[target] = []
            found.append(seq)
            if type_name == CORRECTED and cast(EventCorrected, payload).payload:
                self.mobile.add(target)
            return
        state = event.state
        per_state = self.by_type.get(type_name)
        if per_state is None:
            per_state = self.by_type[type_name] = {}
        seqs = per_state.get(state)
        if seqs is None:
            seqs = per_state[state] = array("i")
        seqs.append(seq)

    def select(self, need: Need, original: Callable[[int], Fact | None]) -> list[Fact]:
        """The events a ledger needs to answer `need` exactly, in the order they were seen."""
        chosen: set[int] = set()
        by_type = self.by_type
        wanted: set[str] = set()
        for part in need:
            for type_name in part.types:
                wanted.add(type_name)
                per_state = by_type.get(type_name)
                if not per_state:
                    continue
                if part.states is None or type_name not in STATE_TYPES:
                    for seqs in per_state.values():
                        chosen.update(seqs)
                else:
                    for iso3 in part.states:
                        chosen.update(per_state.get(iso3, ()))
        seen = self.seen
        # A fact a payload correction names may be about another State by now: offer it to
        # every slice of its type (its type never changes, so filtering by type stays exact).
        for key in self.mobile:
            fact = original(key)
            if fact is None or fact.type not in wanted:
                continue
            state = fact.state
            seqs = by_type.get(fact.type, {}).get(state, array("i"))
            chosen.update(seq for seq in seqs if seen[seq] is fact)
        # Retractions and corrections of what was chosen, and of those, transitively.
        by_target = self.by_target
        pending = [seen[seq].key for seq in chosen]
        while pending:
            metas = by_target.get(pending.pop())
            if metas is None:
                continue
            for seq in metas:
                if seq not in chosen:
                    chosen.add(seq)
                    pending.append(seen[seq].key)
        return [seen[seq] for seq in sorted(chosen)]


class Ledger:
    """The folded state of every event of one convention known at `known_at`."""

    def __init__(self, known_at: datetime | None = None, profile: ConventionProfile = CCM) -> None:
        self.profile = profile
        self._knowledge = Knowledge(known_at)
        self._stream_prefix = profile.key + ":"
        self.states: dict[str, StateRecord] = {}
        self.meetings: dict[str, MeetingRecord] = {}
        self.aggregates: Facts = {}
        self.coverage: Facts = {}
        #: Position of the last event passed to `apply` (known or not): where to resume reading.
        self.position: int | None = None
        # Only the ledger of everything known keeps an index (see `as_known_at`).
        self._index: _Index | None = _Index() if known_at is None else None

    @classmethod
    def from_events(
        cls,
        events: Iterable[Fact],
        known_at: datetime | None = None,
        profile: ConventionProfile = CCM,
    ) -> Ledger:
        """Fold `events` (in position order) from zero, as known at `known_at`."""
        ledger = cls(known_at, profile)
        ledger.apply_all(events)
        return ledger

    @property
    def known_at(self) -> datetime | None:
        return self._knowledge.known_at

    @property
    def problems(self) -> Mapping[uuid.UUID, str]:
        """Corrections that could not be applied, by correction event id, with the reason."""
        return self._knowledge.problems

    def apply_all(self, events: Iterable[Fact]) -> None:
        for event in events:
            self.apply(event)

    def apply(self, event: Fact) -> None:
        """Fold one more event; events must come in position order."""
        if event.position is not None:
            self.position = event.position
        if not event.stream.startswith(self._stream_prefix):
            return  # another convention's event
        index = self._index
        if index is not None:
            index.add(event)
        changes = self._knowledge.admit(event)
        if changes is None:
            bucket = self._bucket(event, create=True)
            if bucket is not None:
                bucket[event.key] = event
            return
        for old, new in changes:
            if old is not None:
                bucket = self._bucket(old, create=False)
                if bucket is not None:
                    bucket.pop(old.key, None)
            if new is not None:
                bucket = self._bucket(new, create=True)
                if bucket is not None:
                    bucket[new.key] = new

    def corrections_of(self, event_id: uuid.UUID) -> tuple[Fact, ...]:
        """Corrections in effect on a fact, oldest first (for showing where a value came from)."""
        return self._knowledge.corrections_of(event_id)

    def as_known_at(self, known_at: datetime, need: Need | None = None) -> Ledger:
        """The ledger as known at `known_at`, folded from this ledger's events in memory.

        Only the ledger of everything known (``known_at=None``) can do this. With `need`, the
        result holds only the facts of those slices (and the retractions and corrections that
        bear on them), and equals ``Ledger.from_events(every event, known_at)`` on them: a
        fact's effective version depends only on the fact and on the retractions and
        corrections that name it, directly or through one another. Other slots are empty,
        and `problems` lists only the problems of the events taken.
        """
        return Ledger.from_events(self.events_for(need), known_at, self.profile)

    def events_for(self, need: Need | None = None) -> list[Fact]:
        """The events `as_known_at` folds for `need`, in the order they were applied.

        A caller that applies events from another thread takes the same lock around this
        call (the fold of the result needs none).
        """
        index = self._index
        if index is None:
            raise ValueError("only the ledger of everything known can fold another knowledge time")
        return list(index.seen) if need is None else index.select(need, self._knowledge.original)

    def _bucket(self, event: Fact, create: bool) -> Facts | None:
        slot = _STATE_SLOTS.get(event.type)
        if slot is not None:
            iso3 = cast(str, event.state)
            record = self.states.get(iso3)
            if record is None:
                if not create:
                    return None
                record = self.states[iso3] = StateRecord(iso3)
            attribute, key_of = slot
            if key_of is None:
                facts: Facts = getattr(record, attribute)
                return facts
            nested: dict[Hashable, Facts] = getattr(record, attribute)
            # Only reports, obligations and extensions: the payload is read for their key.
            key = key_of(event.payload)
            bucket = nested.get(key)
            if bucket is None and create:
                bucket = nested[key] = {}
            return bucket
        meeting_slot = _MEETING_SLOTS.get(event.type)
        if meeting_slot is not None:
            meeting_id: str = cast(Any, event.payload).meeting
            meeting = self.meetings.get(meeting_id)
            if meeting is None:
                if not create:
                    return None
                meeting = self.meetings[meeting_id] = MeetingRecord(meeting_id)
            meeting_facts: Facts = getattr(meeting, meeting_slot)
            return meeting_facts
        if event.type == AggregatePublished.TYPE:
            return self.aggregates
        if event.type == CoverageDeclared.TYPE:
            return self.coverage
        return None

    def snapshot(self) -> dict[str, Any]:
        """Plain data for comparing two ledgers; empty containers are left out, so a fact added
        and then retracted leaves the same snapshot as a fact never seen."""
        states: dict[str, Any] = {}
        for iso3, record in self.states.items():
            data = {}
            for attribute, key_of in _STATE_SLOTS.values():
                value = getattr(record, attribute)
                plain = _plain(value) if key_of is None else _plain_nested(value)
                if plain:
                    data[attribute] = plain
            if data:
                states[iso3] = data
        meetings: dict[str, Any] = {}
        for meeting_id, meeting in self.meetings.items():
            data = {a: _plain(getattr(meeting, a)) for a in _MEETING_SLOTS.values()}
            data = {k: v for k, v in data.items() if v}
            if data:
                meetings[meeting_id] = data
        return {
            "known_at": None if self.known_at is None else self.known_at.isoformat(),
            "convention": self.profile.key,
            "states": states,
            "meetings": meetings,
            "aggregates": _plain(self.aggregates),
            "coverage": _plain(self.coverage),
            "problems": {str(k): v for k, v in self.problems.items()},
        }

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Ledger):
            return NotImplemented
        return self.snapshot() == other.snapshot()

    __hash__ = None  # type: ignore[assignment]


def _plain(facts: Facts) -> dict[str, Any]:
    return {str(event.event_id): event.to_record() for event in facts.values()}


def _plain_nested(nested: Mapping[Hashable, Facts]) -> dict[str, Any]:
    return {str(key): _plain(facts) for key, facts in nested.items() if facts}
