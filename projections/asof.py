"""Knowledge time: which events were known at `known_at`, as corrected and retracted by then.

This is the one place that filters events by knowledge time and applies `event.retracted` and
`event.corrected`. Valid time (`as_of`) is left to the queries, which read `occurred_on`.

- An event recorded after `known_at` is not known, whatever its position.
- A retraction recorded at K removes its target from every answer known at K or later; known
  before K, the target still stands. Retracting a retraction or a correction undoes it.
- A correction replaces the target's `occurred_on` and/or merges its `payload` dict over the
  target's payload (re-validated with the target's payload class); several corrections of one
  event apply in the order they are admitted (position order). A correction that does not
  validate is set aside and named in `problems`: stored data must never stop a fold.

`Knowledge` does this incrementally: each admitted event yields the changes it makes to the set
of effective facts, so a fold stays O(1) per ordinary event and a rebuild from zero gives the
same facts as incremental admission. Events are keyed by `event_id.int`, because
`UUID.__hash__` is Python code and a fold of a million events hashes each id several times.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any, cast

from pydantic import ValidationError

from events.facts import Fact
from events.schema import REGISTRY, EventCorrected, EventRetracted

RETRACTED = EventRetracted.TYPE
CORRECTED = EventCorrected.TYPE

#: (version no longer in effect, version now in effect); either side may be None.
Change = tuple[Fact | None, Fact | None]

_CORRECTING_META = (
    "correction of {target} ignored: a retraction or correction cannot be corrected; "
    "retract it and record a new one"
)


def require_aware(known_at: datetime | None) -> datetime | None:
    """`known_at` must be comparable with `recorded_at` (UTC); a naive time is a bug upstream."""
    if known_at is not None and known_at.utcoffset() is None:
        raise ValueError("known_at must be timezone-aware (UTC), not naive")
    return known_at


class Knowledge:
    """The effective facts known at `known_at` (None: everything admitted), kept incrementally."""

    def __init__(self, known_at: datetime | None = None) -> None:
        self.known_at = require_aware(known_at)
        # Every admitted fact event as first recorded, in admission order.
        self._originals: dict[int, Fact] = {}
        # Facts whose effective version differs from the original (None: retracted).
        self._overrides: dict[int, Fact | None] = {}
        # Admitted retractions and corrections, by their own id.
        self._meta: dict[int, Fact] = {}
        # target -> retractions naming it (live or not: liveness is computed when needed).
        self._retractions: dict[int, set[int]] = {}
        # target -> corrections naming it, in admission order.
        self._corrections: dict[int, dict[int, Fact]] = {}
        # Every id named by a retraction or correction: the one lookup the fast path pays.
        self._targets: set[int] = set()
        #: Corrections set aside, by correction event id, with the reason.
        self.problems: dict[uuid.UUID, str] = {}

    def admit(self, event: Fact) -> tuple[Change, ...] | None:
        """Take one more event (in position order) and return what it changes.

        None is the common case, kept free of allocations: `event` is a new fact that takes
        effect as it is.
        """
        known_at = self.known_at
        if known_at is not None and event.recorded_at > known_at:
            return ()
        type_name = event.type
        if type_name in (RETRACTED, CORRECTED):
            return self._admit_meta(event)
        key = event.key
        originals = self._originals
        if key in originals:
            return ()  # the same event twice: appending is idempotent
        originals[key] = event
        if key in self._targets:
            # A retraction or correction of this event was admitted before it.
            return self._refresh(key, set())
        return None

    def effective(self) -> list[Fact]:
        """Every fact in effect, corrected, in admission order."""
        overrides = self._overrides
        out: list[Fact] = []
        for key, original in self._originals.items():
            if key in overrides:
                current = overrides[key]
                if current is not None:
                    out.append(current)
            else:
                out.append(original)
        return out

    def original(self, key: int) -> Fact | None:
        """The admitted fact with this `event_id.int`, as first recorded."""
        return self._originals.get(key)

    def corrections_of(self, event_id: uuid.UUID) -> tuple[Fact, ...]:
        """The live corrections applied to a fact, in the order they apply."""
        corrections = self._corrections.get(event_id.int, {})
        return tuple(
            c
            for key, c in corrections.items()
            if self._is_live(key) and c.event_id not in self.problems
        )

    def _admit_meta(self, event: Fact) -> tuple[Change, ...]:
        key = event.key
        if key in self._meta:
            return ()
        self._meta[key] = event
        target_id = cast(EventRetracted | EventCorrected, event.payload).target_event_id
        target = target_id.int
        self._targets.add(target)
        if event.type == RETRACTED:
            self._retractions.setdefault(target, set()).add(key)
        else:
            self._corrections.setdefault(target, {})[key] = event
            if target in self._meta:
                self.problems[event.event_id] = _CORRECTING_META.format(target=target_id)
        for correction in self._corrections.get(key, {}).values():
            self.problems[correction.event_id] = _CORRECTING_META.format(target=event.event_id)
        if not self._is_live(key):
            return ()  # retracted before it arrived: it changes nothing
        return self._refresh(target, set())

    def _is_live(self, key: int, seen: frozenset[int] = frozenset()) -> bool:
        """Not retracted by any live retraction (retractions can themselves be retracted)."""
        retractions = self._retractions.get(key)
        if not retractions:
            return True
        if key in seen:  # a cycle of retractions can only come from forged ids
            return True
        seen = seen | {key}
        return not any(r in self._meta and self._is_live(r, seen) for r in retractions)

    def _refresh(self, key: int, seen: set[int]) -> tuple[Change, ...]:
        """Recompute the effective version of a fact, or of the target of a meta event."""
        if key in seen:
            return ()
        seen.add(key)
        meta = self._meta.get(key)
        if meta is not None:
            # A retraction or correction changed liveness: its own target is what moves.
            target = cast(EventRetracted | EventCorrected, meta.payload).target_event_id
            return self._refresh(target.int, seen)
        original = self._originals.get(key)
        if original is None:
            return ()  # not admitted (yet): the meta event waits for it
        old = self._overrides.get(key, original)
        new = self._compute(key, original)
        if new is original:
            self._overrides.pop(key, None)
        else:
            self._overrides[key] = new
        if old is new:
            return ()
        return ((old, new),)

    def _compute(self, key: int, original: Fact) -> Fact | None:
        if not self._is_live(key):
            return None
        current = original
        for correction_key, correction in self._corrections.get(key, {}).items():
            if self._is_live(correction_key):
                current = self._corrected(current, correction)
            else:
                self.problems.pop(correction.event_id, None)  # retracted: no longer a problem
        return current

    def _corrected(self, target: Fact, correction: Fact) -> Fact:
        change = cast(EventCorrected, correction.payload)
        update: dict[str, Any] = {}
        if change.occurred_on is not None:
            update["occurred_on"] = change.occurred_on
        if change.payload is not None:
            payload_cls = REGISTRY[target.type]
            merged = {**target.payload.model_dump(), **change.payload}
            try:
                update["payload"] = payload_cls.model_validate(merged)
            except ValidationError as exc:
                reasons = "; ".join(str(e["msg"]) for e in exc.errors())
                self.problems[correction.event_id] = (
                    f"correction of {target.event_id} ignored: {reasons}"
                )
                return target
            self.problems.pop(correction.event_id, None)
        return target.replace(**update)


def known_events(events: Iterable[Fact], known_at: datetime | None) -> list[Fact]:
    """The facts known at `known_at`: later-recorded events dropped, corrections applied,
    retracted events removed; retractions and corrections themselves are not returned."""
    knowledge = Knowledge(known_at)
    for event in events:
        knowledge.admit(event)
    return knowledge.effective()
