"""A deterministic synthetic history of treaty events, for benchmarks and scale tests.

The same (n, seed) always gives the same events, ids included. The history follows what the
tracker is built to hold: several conventions (``ccm`` first, then others whose streams are
namespaced by their own key), ~200 States each, 30 years (2008-2037), with

- membership: signature (most States), one instrument deposited, a few withdrawals;
- Article 7: the initial report after entry into force, an annual report every year after;
- Articles 3/4/5 obligations, extension requests and decisions, declarations of compliance;
- dozens of other reported facts a year per State (victims, assistance, dissemination, …);
- meetings every year, the published aggregates of each progress report, coverage
  declarations;
- corrections (~1 % of facts), retractions (~0.3 %), a few retractions of corrections, and
  dates known only within bounds (~5 % of submissions).

Knowledge time (`recorded_at`) follows valid time by days to weeks; the events are returned in
append order, which is mostly `recorded_at` order except for ~2 % backfilled later with their
earlier knowledge times (an import of old documents), so position and knowledge time disagree
as they do in real use.

Events are built with `model_construct` (no validation: the values are valid by
construction; `tests/perf` validates a generated sample through `parse_event`).

    python bench/generate.py --events 100000 --out history.jsonl
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pycountry

from events.dates import DateRange
from events.schema import (
    AggregatePublished,
    AnnualReportSubmitted,
    ComplianceDeclared,
    ConsentDeposited,
    CoverageDeclared,
    Event,
    EventCorrected,
    EventRetracted,
    ExtensionDecided,
    ExtensionRequested,
    InitialReportSubmitted,
    MeetingScheduled,
    ObligationDeclared,
    Payload,
    StateFactReported,
    StateSigned,
    WithdrawalNotified,
)

#: Convention keys, CCM first; more are numbered when a history needs them.
CONVENTIONS = ("ccm", "apmbc", "ccw", "att", "tpnw", "bwc", "cwc", "ctbt", "npt", "oewg")
FIRST_YEAR = 2008
LAST_YEAR = 2037
STATES_PER_CONVENTION = 200
#: Other reported facts per State and year (the issue's "dozens of events a year").
FACTS_PER_YEAR = 24
#: Knowledge time at the end of every generated history.
END_OF_HISTORY = datetime(LAST_YEAR + 1, 6, 30, tzinfo=UTC)

FACTS = (
    "has_cluster_munition_victims",
    "provided_assistance",
    "received_assistance",
    "disseminated_obligations",
    "retains_cluster_munitions",
    "used_form_j",
    "gender_in_other_forms",
    "national_measures_adopted",
    "contribution_paid",
)
SOURCES = tuple(
    f"{{conv}}/MSP/{year}/{n}" for year in range(FIRST_YEAR, LAST_YEAR + 1) for n in (1, 7)
)
RECORDERS = ("import:bulk", "isu-desk", "alice", "bob", "carol")


def state_codes(count: int = STATES_PER_CONVENTION) -> list[str]:
    codes = sorted(c.alpha_3 for c in pycountry.countries)
    return codes[:count]


#: One generated event before it becomes an `Event`: (recorded_at, seq, stream, payload class,
#: payload fields, occurred_on, recorded_by, source, event id).
Spec = tuple[datetime, int, str, type[Payload], dict[str, Any], DateRange, str, str, uuid.UUID]


class _Rng(random.Random):
    """random.Random with a faster randint (the stdlib one is pure Python and slow)."""

    def randint(self, a: int, b: int) -> int:
        return a + int(self.random() * (b - a + 1))

    def choice(self, seq: Any) -> Any:
        return seq[int(self.random() * len(seq))]


class _Builder:
    """Collects the specs of one history; `seq` breaks ties of recorded_at stably."""

    def __init__(self, rng: _Rng) -> None:
        self.rng = rng
        self.items: list[Spec] = []
        self._ranges: dict[tuple[date, date], DateRange] = {}

    def new_id(self) -> uuid.UUID:
        return uuid.UUID(int=self.rng.getrandbits(128), version=4)

    def when(self, lo: date, hi: date | None = None) -> DateRange:
        key = (lo, hi or lo)
        found = self._ranges.get(key)
        if found is None:
            found = self._ranges[key] = DateRange(lo, hi)
        return found

    def add(
        self,
        stream: str,
        payload: tuple[type[Payload], dict[str, Any]],
        on: DateRange,
        recorded_at: datetime,
        source: str,
    ) -> Spec:
        spec: Spec = (
            recorded_at,
            len(self.items),
            stream,
            payload[0],
            payload[1],
            on,
            self.rng.choice(RECORDERS),
            source,
            self.new_id(),
        )
        self.items.append(spec)
        return spec

    def recorded_after(self, day: date, max_days: int = 60) -> datetime:
        moment = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(
            days=self.rng.randint(1, max_days), seconds=self.rng.randint(0, 86_399)
        )
        return min(moment, END_OF_HISTORY - timedelta(seconds=self.rng.randint(1, 86_400)))


def _p(cls: type[Payload], **fields: Any) -> tuple[type[Payload], dict[str, Any]]:
    return cls, fields


def _day(rng: _Rng, year: int, start_month: int = 1, end_month: int = 12) -> date:
    month = rng.randint(start_month, end_month)
    return date(year, month, rng.randint(1, 28))


def _convention(b: _Builder, conv: str, states: list[str], facts_per_year: int) -> None:
    rng = b.rng
    source_of = [s.format(conv=conv.upper()) for s in SOURCES]

    def source(year: int) -> str:
        index = 2 * (min(max(year, FIRST_YEAR), LAST_YEAR) - FIRST_YEAR)
        return source_of[index + rng.randint(0, 1)]

    # Meetings, published aggregates and coverage: one meeting a year.
    for n, year in enumerate(range(FIRST_YEAR + 2, LAST_YEAR + 1), start=1):
        meeting = f"{n}MSP"
        start = date(year, 9, rng.randint(1, 20))
        b.add(
            f"{conv}:meeting:{meeting}",
            _p(
                MeetingScheduled,
                meeting=meeting,
                name=f"{n}th Meeting of States Parties",
                start_date=start,
                end_date=start + timedelta(days=4),
                place="Geneva",
                presidency=None,
            ),
            b.when(date(year - 1, 10, 1)),
            b.recorded_after(date(year - 1, 10, 1)),
            source(year - 1),
        )
        for k in range(5):
            b.add(
                f"{conv}:figures:published",
                _p(
                    AggregatePublished,
                    figure=f"progress.{year}.figure-{k}",
                    value=rng.randint(0, 200),
                    text=f"Published figure {k} of the {year} progress report",
                    period_start=date(year - 1, 7, 1),
                    period_end=date(year, 6, 30),
                    lap_action=None,
                ),
                b.when(date(year, 8, 1)),
                b.recorded_after(date(year, 8, 1), 20),
                source(year),
            )
        if year - 1 < 2010:
            continue
        b.add(
            f"{conv}:coverage:annual_reports",
            _p(
                CoverageDeclared,
                subject="annual_reports",
                period_start=date(year, 1, 1),
                period_end=date(year, 8, 1),
                year_covered=year - 1,
                detail=None,
            ),
            b.when(date(year, 8, 1)),
            b.recorded_after(date(year, 8, 1), 20),
            source(year),
        )
    meetings = {year: f"{n}MSP" for n, year in enumerate(range(FIRST_YEAR + 2, LAST_YEAR + 1), 1)}

    for iso3 in states:
        stream = f"{conv}:state:{iso3}"
        if rng.random() < 0.8:
            signed = _day(rng, 2008, 12, 12) if rng.random() < 0.5 else _day(rng, 2009)
            b.add(
                stream,
                _p(StateSigned, state=iso3),
                b.when(signed),
                b.recorded_after(signed),
                source(signed.year),
            )
        if rng.random() >= 0.9:
            continue  # never joins
        deposit_year = min(LAST_YEAR - 2, FIRST_YEAR + 1 + int(rng.expovariate(1 / 5)))
        deposited = _day(rng, deposit_year)
        b.add(
            stream,
            _p(ConsentDeposited, state=iso3, instrument=rng.choice(("ratification", "accession"))),
            b.when(deposited),
            b.recorded_after(deposited),
            source(deposited.year),
        )
        eif = date(deposited.year + (deposited.month + 5) // 12, (deposited.month + 5) % 12 + 1, 1)
        eif = max(eif, date(2010, 8, 1))
        withdraw_year = None
        if rng.random() < 0.01:
            withdraw_year = rng.randint(eif.year + 3, LAST_YEAR + 5)
            if withdraw_year <= LAST_YEAR:
                received = _day(rng, withdraw_year)
                b.add(
                    stream,
                    _p(WithdrawalNotified, state=iso3, effective_on=None),
                    b.when(received),
                    b.recorded_after(received),
                    source(withdraw_year),
                )
        end_year = LAST_YEAR if withdraw_year is None else min(LAST_YEAR, withdraw_year)
        if rng.random() < 0.9:
            submitted = eif + timedelta(days=rng.randint(60, 400))
            if submitted.year <= LAST_YEAR:
                b.add(
                    stream,
                    _p(InitialReportSubmitted, state=iso3, form_version="original", forms=()),
                    _maybe_range(b, submitted),
                    b.recorded_after(submitted),
                    source(submitted.year),
                )
        for year in range(eif.year, end_year):
            if rng.random() < 0.85:
                submitted = _day(rng, year + 1, 1, 7)
                b.add(
                    stream,
                    _p(
                        AnnualReportSubmitted,
                        state=iso3,
                        year_covered=year,
                        form_version="revised" if year >= 2023 else "original",
                        forms=(),
                    ),
                    _maybe_range(b, submitted),
                    b.recorded_after(submitted),
                    source(submitted.year),
                )
        for article, share in ((3, 0.1), (4, 0.15), (5, 0.15)):
            if rng.random() >= share:
                continue
            b.add(
                stream,
                _p(
                    ObligationDeclared,
                    state=iso3,
                    article=article,
                    obligation="main",
                    basis="at_entry_into_force",
                    hostilities_ended_on=None,
                ),
                b.when(eif),
                b.recorded_after(eif),
                source(eif.year),
            )
            if article == 5:
                continue
            deadline = eif.replace(year=eif.year + (8 if article == 3 else 10))
            if deadline.year < LAST_YEAR and rng.random() < 0.4:
                meeting_year = deadline.year - 1
                meeting = meetings.get(meeting_year)
                if meeting is not None:
                    asked = _day(rng, meeting_year - 1, 6, 12)
                    b.add(
                        stream,
                        _p(
                            ExtensionRequested,
                            state=iso3,
                            article=article,
                            obligation="main",
                            meeting=meeting,
                            requested_deadline=deadline.replace(year=deadline.year + 4),
                        ),
                        _maybe_range(b, asked),
                        b.recorded_after(asked),
                        source(asked.year),
                    )
                    decided = date(meeting_year, 9, 25)
                    granted = rng.random() < 0.9
                    b.add(
                        stream,
                        _p(
                            ExtensionDecided,
                            state=iso3,
                            article=article,
                            obligation="main",
                            meeting=meeting,
                            outcome="granted" if granted else "refused",
                            granted_deadline=deadline.replace(year=deadline.year + 4)
                            if granted
                            else None,
                        ),
                        b.when(decided),
                        b.recorded_after(decided),
                        source(decided.year),
                    )
            if rng.random() < 0.5:
                done = eif + timedelta(days=rng.randint(700, 3000))
                meeting = meetings.get(done.year)
                if done.year <= LAST_YEAR:
                    b.add(
                        stream,
                        _p(
                            ComplianceDeclared,
                            state=iso3,
                            article=article,
                            obligation="main",
                            meeting=meeting,
                        ),
                        b.when(done),
                        b.recorded_after(done),
                        source(done.year),
                    )
        for year in range(eif.year, end_year + 1):
            for _ in range(facts_per_year):
                day = _day(rng, year)
                b.add(
                    stream,
                    _p(
                        StateFactReported,
                        state=iso3,
                        fact=rng.choice(FACTS),
                        period_start=date(year, 1, 1),
                        period_end=date(year, 12, 31),
                        detail=None if rng.random() < 0.7 else f"detail {rng.randint(1, 999)}",
                    ),
                    b.when(day),
                    b.recorded_after(day),
                    source(year),
                )


def _maybe_range(b: _Builder, day: date) -> DateRange:
    if b.rng.random() < 0.05:
        return b.when(day - timedelta(days=b.rng.randint(1, 40)), day)
    return b.when(day)


def _corrections(b: _Builder, rate: float = 1.0) -> None:
    """Corrections and retractions of earlier facts, recorded some time after their target.

    About 1.3 % of facts are corrected or retracted (times `rate`), 5 % of corrections are
    retracted in turn.
    """
    rng = b.rng
    facts = [spec for spec in b.items if spec[3] is not MeetingScheduled]
    for recorded_at, _, stream, _, _, occurred_on, _, source, target_id in facts:
        roll = rng.random() / rate
        if roll >= 0.013:
            continue
        later = recorded_at + timedelta(days=rng.randint(1, 400), seconds=rng.randint(0, 86_399))
        if later >= END_OF_HISTORY:
            continue
        if roll < 0.003:
            b.add(
                stream,
                _p(EventRetracted, target_event_id=target_id, reason="entered twice by mistake"),
                b.when(later.date()),
                later,
                source,
            )
            continue
        day = occurred_on.not_after
        moved = max(date(FIRST_YEAR, 1, 1), day - timedelta(days=rng.randint(1, 20)))
        correction = b.add(
            stream,
            _p(
                EventCorrected,
                target_event_id=target_id,
                reason="date corrected from the depositary notification",
                occurred_on=b.when(moved),
                payload=None,
            ),
            b.when(later.date()),
            later,
            source,
        )
        if rng.random() < 0.05:
            undo = later + timedelta(days=rng.randint(1, 100))
            if undo < END_OF_HISTORY:
                b.add(
                    stream,
                    _p(
                        EventRetracted, target_event_id=correction[8], reason="correction was wrong"
                    ),
                    b.when(undo.date()),
                    undo,
                    source,
                )


def generate_specs(
    n: int,
    seed: int = 2026,
    *,
    states: int = STATES_PER_CONVENTION,
    facts_per_year: int = FACTS_PER_YEAR,
    correction_rate: float = 1.0,
) -> list[Spec]:
    """The specs of `n` events in append order (see the module docstring).

    Conventions are added until the history holds at least `n` events; it is then cut at `n`
    in knowledge order (so every convention ends at the same knowledge time).
    """
    if n < 0:
        raise ValueError("n must be >= 0")
    rng = _Rng(seed)
    b = _Builder(rng)
    codes = state_codes(states)
    for index in range(10_000):
        conv = CONVENTIONS[index] if index < len(CONVENTIONS) else f"conv{index}"
        _convention(b, conv, codes, facts_per_year)
        if len(b.items) >= n:
            break
    _corrections(b, correction_rate)
    ordered = sorted(b.items, key=lambda spec: (spec[0], spec[1]))
    if len(ordered) < n:
        raise AssertionError(f"generated {len(ordered)} events, fewer than {n}")
    # Cut the history at n events (in knowledge order, so every kept correction's target is
    # kept), then move ~2 % later in append order: a backfill carrying earlier knowledge times.
    kept = ordered[:n]
    late_at = {i for i in range(len(kept)) if rng.random() < 0.02}
    normal = [spec for i, spec in enumerate(kept) if i not in late_at]
    late = [kept[i] for i in sorted(late_at)]
    out: list[Spec] = []
    step = max(1, len(normal) // max(1, len(late)))
    li = 0
    for i, spec in enumerate(normal):
        out.append(spec)
        while li < len(late) and i >= step * li + 2 * step:
            out.append(late[li])
            li += 1
    out.extend(late[li:])
    return out


def to_event(spec: Spec) -> Event:
    """The `Event` of a spec, built without validation (valid by construction)."""
    recorded_at, _, stream, cls, fields, occurred_on, recorded_by, source, event_id = spec
    return Event.model_construct(
        event_id=event_id,
        stream=stream,
        version=None,
        position=None,
        type=cls.TYPE,
        schema_version=cls.SCHEMA_VERSION,
        occurred_on=occurred_on,
        recorded_at=recorded_at,
        recorded_by=recorded_by,
        source=source,
        payload=cls.model_construct(**fields),
    )


def to_events(specs: list[Spec]) -> list[Event]:
    return [to_event(spec) for spec in specs]


def generate(n: int, seed: int = 2026, **shape: Any) -> list[Event]:
    """`n` events in append order; deterministic in (n, seed, shape)."""
    return to_events(generate_specs(n, seed, **shape))


def to_jsonl(events: list[Event], path: Path) -> None:
    with path.open("w", encoding="utf-8") as out:
        for event in events:
            out.write(json.dumps(event.to_record()) + "\n")


def summary(events: list[Event]) -> dict[str, Any]:
    by_type: dict[str, int] = {}
    for event in events:
        by_type[event.type] = by_type.get(event.type, 0) + 1
    return {
        "events": len(events),
        "conventions": sorted({e.stream.split(":", 1)[0] for e in events}),
        "streams": len({e.stream for e in events}),
        "by_type": dict(sorted(by_type.items(), key=lambda kv: -kv[1])),
    }


def iter_batches(events: list[Event], size: int) -> Iterator[list[Event]]:
    for start in range(0, len(events), size):
        yield events[start : start + size]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--out", type=Path, help="write the history as JSONL")
    args = parser.parse_args(argv)
    if not 0 <= args.events <= 2_000_000:
        parser.error("--events must be between 0 and 2,000,000")
    events = generate(args.events, args.seed)
    if args.out:
        to_jsonl(events, args.out)
    json.dump(summary(events), sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
