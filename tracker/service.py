"""Queries and commands shared by every front end (CLI, console chat, Telegram bot).

The service owns the ledger cache: the ledger of everything known is folded once and then
updated incrementally from the store's new positions; a question about an earlier knowledge
time folds a ledger filtered to that time (cached until new events arrive). Every answer is an
`Answer` stating its valid date, its knowledge time and its sources.
"""

from __future__ import annotations

import gc
import threading
from array import array
from bisect import bisect_right
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Protocol, cast

from events.facts import Fact
from events.schema import CoverageDeclared, InitialReportSubmitted
from events.store import EventStore
from projections import extensions as ext
from projections import membership as mem
from projections import obligations as obl
from projections import reporting as rep
from projections.indicators import Indicator, Period
from projections.indicators import indicators as compute_indicators
from projections.ledger import MEETING_TYPES, MEMBERSHIP_TYPES, STATE_TYPES, Ledger, Need, Slice
from projections.meetings import meetings
from projections.profile import CCM, ConventionProfile
from projections.published import published_figures
from projections.timeline import state_profile, timeline
from tracker.aliases import Resolution, display_name, resolve
from tracker.answers import Answer, Cell, cell
from tracker.clock import Clock

COUNT_TITLES: dict[str, str] = {
    "parties": "States Parties (instrument deposited, not withdrawn)",
    "bound": "States Parties bound (Convention in force for them)",
    "signatories": "Signatory States (signed, not yet ratified)",
    "signed": "States that signed (ratified or not)",
    "signed_or_joined": "States that signed, ratified or acceded",
    "withdrawn": "States whose withdrawal has taken effect",
}
COUNT_ALIASES: dict[str, str] = {
    "party": "parties",
    "states parties": "parties",
    "members": "parties",
    "in force": "bound",
    "in-force": "bound",
    "signatory": "signatories",
    "signers": "signed",
    "joined": "signed_or_joined",
    "all": "signed_or_joined",
}


class QueryError(ValueError):
    """A question the service cannot answer as asked; the message says how to ask it."""


@dataclass(frozen=True)
class KnownLedger:
    """A ledger and the newest knowledge time among the events it holds."""

    ledger: Ledger
    recorded_up_to: datetime | None


@dataclass
class SavedLedger:
    """What a checkpoint holds: the ledger of everything known up to `ledger.position`, and
    the knowledge time of every event read so far (microseconds since the epoch, UTC)."""

    ledger: Ledger
    recorded: array[int]
    latest_recorded: datetime | None


class CheckpointStore(Protocol):
    """Where the service keeps its ledger between runs (see tracker/stores/checkpoints.py).

    A checkpoint is keyed by (projection, position, code version); the store answers only with
    checkpoints of the running code and throws the others away.
    """

    def load(self, projection: str, max_position: int) -> SavedLedger | None: ...

    def save(self, projection: str, saved: SavedLedger) -> None: ...


#: Slices of the ledger the fast as-of questions read (see `Ledger.as_known_at`).
_MEMBERSHIP = Slice(MEMBERSHIP_TYPES)
_INITIAL = Slice(MEMBERSHIP_TYPES | {InitialReportSubmitted.TYPE, CoverageDeclared.TYPE})
_MEETINGS = Slice(MEETING_TYPES)


def _state_need(iso3: str) -> Need:
    """A State's profile and timeline: its own facts, every State's membership and initial
    report (the overdue list it is checked against), and the meetings."""
    return (_INITIAL, _MEETINGS, Slice(STATE_TYPES, frozenset({iso3})))


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
#: Folds at least this large are followed by gc.freeze(): the ledger is long-lived, and full
#: collections that walk it would stall later queries for as long as a fold.
_FREEZE_AFTER = 50_000


def _micros(moment: datetime) -> int:
    return (moment - _EPOCH) // _MICROSECOND


@contextmanager
def _gc_paused() -> Iterator[None]:
    """No cyclic collections during a fold: it allocates many objects that all stay alive,
    so CPython would otherwise keep walking the growing ledger (measured: half the fold)."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


class TrackerService:
    """The tracker's query and command API over one event store."""

    def __init__(
        self,
        store: EventStore,
        clock: Clock,
        profile: ConventionProfile = CCM,
        checkpoints: CheckpointStore | None = None,
        checkpoint_every: int | None = 200_000,
    ) -> None:
        self.store = store
        self.clock = clock
        self.profile = profile
        self.checkpoints = checkpoints
        #: After this many events folded since the last checkpoint, save one (None: never).
        self.checkpoint_every = checkpoint_every
        self._lock = threading.Lock()
        self._latest = Ledger(None, profile)
        self._latest_recorded: datetime | None = None
        # Knowledge time of every event read, for `recorded_up_to` at an earlier time.
        self._recorded: array[int] = array("q")
        # How long a prefix of `_recorded` is known to be in order (see `_recorded_up_to`).
        self._recorded_sorted = 0
        self._started = False
        self._since_checkpoint = 0
        self._past: OrderedDict[tuple[datetime, Need | None], KnownLedger] = OrderedDict()

    # --- ledgers -----------------------------------------------------------------------------

    @property
    def projection(self) -> str:
        """The checkpoint key of this service's ledger."""
        return f"ledger:{self.profile.key}"

    def refresh(self) -> int:
        """Fold events appended since the last call; returns how many were new.

        The first call starts from the newest checkpoint, when a checkpoint store is given.
        """
        with self._lock:
            if not self._started:
                self._started = True
                self._load_checkpoint()
            new = 0
            latest = self._latest_recorded
            recorded = self._recorded
            ledger = self._latest
            with _gc_paused():
                for event in self.store.read_facts(after=ledger.position or 0):
                    ledger.apply(event)
                    at = event.recorded_at
                    recorded.append(_micros(at))
                    if latest is None or at > latest:
                        latest = at
                    new += 1
            self._latest_recorded = latest
            if new:
                self._past.clear()  # an import may carry past knowledge times
                self._since_checkpoint += new
                if new >= _FREEZE_AFTER:
                    gc.freeze()
                every = self.checkpoint_every
                if self.checkpoints is not None and every and self._since_checkpoint >= every:
                    self._save_checkpoint()
            return new

    def save_checkpoint(self) -> None:
        """Store the ledger as folded so far (a no-op without a checkpoint store)."""
        self.refresh()
        with self._lock:
            self._save_checkpoint()

    def _save_checkpoint(self) -> None:
        if self.checkpoints is None or self._latest.position is None:
            return
        self._sort_recorded()
        saved = SavedLedger(self._latest, self._recorded, self._latest_recorded)
        self.checkpoints.save(self.projection, saved)
        self._since_checkpoint = 0

    def _load_checkpoint(self) -> None:
        if self.checkpoints is None:
            return
        with _gc_paused():
            saved = self.checkpoints.load(self.projection, self.store.head_position())
        if saved is None or saved.ledger.profile != self.profile:
            return
        self._latest = saved.ledger
        self._recorded = saved.recorded
        self._recorded_sorted = len(saved.recorded)  # saved in order (see _save_checkpoint)
        self._latest_recorded = saved.latest_recorded
        gc.freeze()

    def known(self, known_at: datetime | None = None, need: Need | None = None) -> KnownLedger:
        """The ledger as known at `known_at` (default: now).

        At an earlier knowledge time the ledger is folded in memory from the events already
        read; `need` (the slices a question reads, see `projections.ledger.Slice`) folds only
        those, and the other slots of that ledger are then empty.
        """
        self.refresh()
        moment = known_at or self.clock.now()
        latest = self._latest_recorded
        if latest is None or moment >= latest:
            return KnownLedger(self._latest, latest)
        key = (moment, need)
        with self._lock:
            cached = self._past.get(key)
            if cached is not None:
                self._past.move_to_end(key)
                return cached
            # Chosen under the lock (a refresh may be adding to the index); folded outside it.
            events = self._latest.events_for(need)
            up_to = self._recorded_up_to(moment)
        known = KnownLedger(Ledger.from_events(events, moment, self.profile), up_to)
        with self._lock:
            self._past[key] = known
            while len(self._past) > 8:
                self._past.popitem(last=False)
        return known

    def _recorded_up_to(self, moment: datetime) -> datetime | None:
        """The newest knowledge time of an event read so far that is not after `moment`."""
        ordered = self._sort_recorded()
        at = bisect_right(ordered, _micros(moment))
        return None if at == 0 else _EPOCH + timedelta(microseconds=ordered[at - 1])

    def _sort_recorded(self) -> array[int]:
        """`_recorded` in order (under the lock). Events mostly come in knowledge order, so
        only the part read since the last call is checked, and sorted only when it must."""
        recorded = self._recorded
        done = self._recorded_sorted
        if done < len(recorded):
            start = max(done, 1)
            if any(recorded[i - 1] > recorded[i] for i in range(start, len(recorded))):
                recorded = self._recorded = array("q", sorted(recorded))
            self._recorded_sorted = len(recorded)
        return recorded

    def today(self) -> date:
        return self.clock.now().date()

    def _times(self, as_of: date | None, known_at: datetime | None) -> tuple[date, datetime]:
        return as_of or self.today(), known_at or self.clock.now()

    # --- States ------------------------------------------------------------------------------

    def resolve_state(self, name: str) -> Resolution:
        """Resolve a State name (aliases, ISO3, tolerated misspellings with a warning)."""
        return resolve(name)

    # --- queries -----------------------------------------------------------------------------

    def count(
        self, what: str, as_of: date | None = None, known_at: datetime | None = None
    ) -> Answer:
        """How many States are in a membership category, and which."""
        key = COUNT_ALIASES.get(what.strip().lower(), what.strip().lower())
        if key not in mem.COUNTS:
            raise QueryError(f"cannot count {what!r}: choose one of {', '.join(mem.COUNTS)}")
        day, moment = self._times(as_of, known_at)
        known = self.known(moment, (_MEMBERSHIP,))
        result = mem.count(known.ledger, cast(mem.CountWhat, key), day)
        date_label = {"parties": "deposit_date", "bound": "entry_into_force"}.get(
            key, "withdrawal_effective" if key == "withdrawn" else "date"
        )
        if key in ("signatories", "signed"):
            date_label = "signed_on"
        rows = tuple(
            {"iso3": ref.iso3, "name": display_name(ref.iso3), date_label: cell(ref.date)}
            for ref in sorted(result.items, key=lambda r: display_name(r.iso3))
        )
        notes = []
        if result.uncertain:
            names = ", ".join(display_name(i) for i in result.uncertain)
            notes.append(f"not counted because their recorded dates straddle {day}: {names}")
        ledger = known.ledger
        sources = _sources(
            e
            for ref in result.items
            for facts in _membership_facts(ledger, ref.iso3)
            for e in facts
        )
        return Answer(
            kind="count",
            title=COUNT_TITLES[key],
            as_of=day,
            known_at=moment,
            recorded_up_to=known.recorded_up_to,
            value=result.value,
            columns=("iso3", "name", date_label),
            rows=rows,
            notes=tuple(notes),
            sources=sources,
            data={"what": key},
        )

    def overdue_initial(
        self, as_of: date | None = None, known_at: datetime | None = None
    ) -> Answer:
        """Initial Article 7 reports overdue at a date (due 180 days after entry into force)."""
        day, moment = self._times(as_of, known_at)
        known = self.known(moment, (_INITIAL,))
        items = rep.overdue_initial(known.ledger, day)
        rows = tuple(
            {
                "iso3": item.iso3,
                "name": display_name(item.iso3),
                "due": cell(item.due),
                "days_overdue": item.days_overdue,
                "year_due": item.year_due,
                "uncertain": item.uncertain,
            }
            for item in sorted(items, key=lambda i: (i.due, display_name(i.iso3)))
        )
        notes = [_coverage_note(known.ledger, "initial_reports", day)]
        uncertain = [r["name"] for r in rows if r["uncertain"]]
        if uncertain:
            notes.append(
                "the recorded submission date straddles the as-of date for: "
                + ", ".join(str(u) for u in uncertain)
            )
        sources = _sources(
            e
            for item in items
            if item.iso3 in known.ledger.states
            for e in known.ledger.states[item.iso3].initial_reports.values()
        ) or _coverage_sources(known.ledger, "initial_reports")
        return Answer(
            kind="overdue",
            title="Overdue initial Article 7 reports",
            as_of=day,
            known_at=moment,
            recorded_up_to=known.recorded_up_to,
            value=len(rows),
            columns=("iso3", "name", "due", "days_overdue", "year_due", "uncertain"),
            rows=rows,
            notes=tuple(n for n in notes if n),
            sources=sources,
            data={"what": "initial"},
        )

    def annual(
        self, year: int, as_of: date | None = None, known_at: datetime | None = None
    ) -> Answer:
        """Annual Article 7 reports for calendar `year`: expected, on time, late, missing."""
        day, moment = self._times(as_of, known_at)
        _check_year(year)
        known = self.known(moment)
        status = rep.annual_status(known.ledger, year, day)
        rows: list[dict[str, Cell]] = []
        for group, refs in (
            ("on_time", status.on_time),
            ("late", status.late),
            ("timing_unknown", status.timing_unknown),
            ("uncertain", status.uncertain),
            ("not_expected", status.unexpected),
        ):
            for ref in refs:
                rows.append(
                    {
                        "iso3": ref.iso3,
                        "name": display_name(ref.iso3),
                        "status": group,
                        "submitted": str(ref.submitted),
                        "form_version": ref.form_version,
                    }
                )
        for iso3 in status.missing:
            rows.append(
                {
                    "iso3": iso3,
                    "name": display_name(iso3),
                    "status": "missing",
                    "submitted": None,
                    "form_version": None,
                }
            )
        notes = [status.coverage_note]
        if status.expected_uncertain:
            notes.append(
                "expected or not cannot be told from the recorded dates for: "
                + ", ".join(display_name(i) for i in status.expected_uncertain)
            )
        if status.unexpected:
            notes.append(
                "also received from States not expected to report for the year: "
                + ", ".join(display_name(r.iso3) for r in status.unexpected)
            )
        sources = _sources(
            e
            for ref in (*status.on_time, *status.late, *status.timing_unknown)
            for e in known.ledger.states[ref.iso3].annual_reports.get(year, {}).values()
        ) + _coverage_sources(known.ledger, "annual_reports")
        return Answer(
            kind="annual",
            title=f"Annual Article 7 reports for {year} (due {status.due.isoformat()})",
            as_of=day,
            known_at=moment,
            recorded_up_to=known.recorded_up_to,
            value=status.submitted,
            columns=("iso3", "name", "status", "submitted", "form_version"),
            rows=tuple(rows),
            notes=tuple(notes),
            sources=tuple(dict.fromkeys(sources)),
            data={
                "year": year,
                "due": status.due,
                "covered": status.covered,
                "expected": len(status.expected),
                "submitted": status.submitted,
                "on_time": len(status.on_time),
                "late": len(status.late),
                "timing_unknown": len(status.timing_unknown),
                "missing": len(status.missing) if status.covered else None,
            },
        )

    def overdue_annual(
        self, year: int, as_of: date | None = None, known_at: datetime | None = None
    ) -> Answer:
        """Annual reports for `year` still missing at a date (only where the data covers it)."""
        full = self.annual(year, as_of, known_at)
        due = date(year + 1, 4, 30)
        day = full.as_of or self.today()
        rows = tuple(
            {
                "iso3": r["iso3"],
                "name": r["name"],
                "due": due.isoformat(),
                "days_overdue": max(0, (day - due).days),
            }
            for r in full.rows
            if r["status"] == "missing" and day > due
        )
        notes = list(full.notes)
        if day <= due:
            notes.insert(0, f"nothing is overdue yet: reports for {year} are due {due.isoformat()}")
        return Answer(
            kind="overdue",
            title=f"Overdue annual Article 7 reports for {year}",
            as_of=full.as_of,
            known_at=full.known_at,
            recorded_up_to=full.recorded_up_to,
            value=len(rows) if full.data.get("covered") else None,
            columns=("iso3", "name", "due", "days_overdue"),
            rows=rows,
            notes=tuple(notes),
            sources=full.sources,
            data={"what": "annual", "year": year, "covered": full.data.get("covered")},
        )

    def obligations(
        self, article: int, as_of: date | None = None, known_at: datetime | None = None
    ) -> Answer:
        """Open Article 3 or 4 obligations and their deadlines in force."""
        if article not in (3, 4, 5):
            raise QueryError(f"article must be 3, 4 or 5, not {article}")
        day, moment = self._times(as_of, known_at)
        known = self.known(moment)
        views = obl.open_obligations(known.ledger, article, day)
        rows = tuple(
            {
                "iso3": v.iso3,
                "name": display_name(v.iso3),
                "article": v.article,
                "obligation": v.obligation,
                "original_deadline": cell(v.original_deadline),
                "deadline_in_force": cell(v.deadline_in_force),
                "extensions": len(v.extensions_granted),
                "status": v.status,
            }
            for v in sorted(views, key=lambda v: display_name(v.iso3))
        )
        sources = _sources(
            e
            for v in views
            for e in known.ledger.states[v.iso3]
            .obligations.get((v.article, v.obligation), {})
            .values()
        )
        return Answer(
            kind="obligations",
            title=f"States Parties with open Article {article} obligations",
            as_of=day,
            known_at=moment,
            recorded_up_to=known.recorded_up_to,
            value=len(rows),
            columns=(
                "iso3",
                "name",
                "article",
                "obligation",
                "original_deadline",
                "deadline_in_force",
                "extensions",
                "status",
            ),
            rows=rows,
            notes=tuple(
                n
                for n in (
                    _coverage_note(known.ledger, "obligations", day),
                    _passed_note(views),
                )
                if n
            ),
            sources=sources,
            data={"article": article},
        )

    def extensions(self, meeting: str | None = None, known_at: datetime | None = None) -> Answer:
        """Extension requests for a meeting (default: the next one), on time or late."""
        moment = known_at or self.clock.now()
        known = self.known(moment)
        meeting_id = meeting.strip().upper() if meeting else self._next_meeting(known.ledger)
        if meeting_id is None:
            raise QueryError("no future meeting is recorded: name one, e.g. 12MSP")
        views = ext.requests_for_meeting(known.ledger, meeting_id)
        if not views and meeting_id not in known.ledger.meetings:
            known_ids = ", ".join(m.meeting for m in meetings(known.ledger))
            raise QueryError(f"no meeting {meeting_id!r} is recorded; known: {known_ids}")
        rows = tuple(
            {
                "iso3": v.iso3,
                "name": display_name(v.iso3),
                "article": v.article,
                "submitted": str(v.submitted),
                "cutoff": cell(v.cutoff),
                "timeliness": v.timeliness,
                "before_deadline_expiry": v.before_deadline_expiry,
                "requested_deadline": cell(v.requested_deadline),
                "decision": None if v.decision is None else v.decision.outcome,
                "granted_deadline": None
                if v.decision is None
                else cell(v.decision.granted_deadline),
            }
            for v in views
        )
        on_time = sum(1 for v in views if v.timeliness in ("on_time", "on_cutoff_day"))
        notes = [f"{on_time} of {len(views)} submitted at least nine months before the meeting"]
        if any(v.timeliness == "on_cutoff_day" for v in views):
            notes.append("a request filed on the cut-off day itself is counted as on time")
        if any(v.timeliness == "unknown" for v in views):
            notes.append("timeliness unknown where the submission date straddles the cut-off")
        sources = _sources(
            e
            for v in views
            for e in known.ledger.states[v.iso3]
            .extension_requests.get((v.article, v.obligation), {})
            .values()
            if e.event_id == v.event_id
        )
        return Answer(
            kind="extensions",
            title=f"Extension requests for {meeting_id}",
            as_of=None,
            known_at=moment,
            recorded_up_to=known.recorded_up_to,
            value=len(rows),
            columns=(
                "iso3",
                "name",
                "article",
                "submitted",
                "cutoff",
                "timeliness",
                "before_deadline_expiry",
                "requested_deadline",
                "decision",
                "granted_deadline",
            ),
            rows=rows,
            notes=tuple(notes),
            sources=sources,
            data={"meeting": meeting_id, "on_time": on_time},
        )

    def cutoffs(self, as_of: date | None = None, known_at: datetime | None = None) -> Answer:
        """Extension-request filing cut-offs coming up for States whose deadline is near."""
        day, moment = self._times(as_of, known_at)
        known = self.known(moment)
        items = ext.upcoming_cutoffs(known.ledger, day)
        rows = tuple(
            {
                "iso3": c.iso3,
                "name": display_name(c.iso3),
                "article": c.article,
                "deadline_in_force": cell(c.deadline_in_force),
                "meeting": c.meeting,
                "meeting_start": cell(c.meeting_start),
                "cutoff": cell(c.cutoff),
                "request_filed": c.request_filed,
            }
            for c in items
        )
        return Answer(
            kind="cutoffs",
            title="Extension-request filing cut-offs (nine months before the meeting)",
            as_of=day,
            known_at=moment,
            recorded_up_to=known.recorded_up_to,
            value=len(rows),
            columns=(
                "iso3",
                "name",
                "article",
                "deadline_in_force",
                "meeting",
                "meeting_start",
                "cutoff",
                "request_filed",
            ),
            rows=rows,
            notes=(),
            sources=tuple(dict.fromkeys(m.source for m in meetings(known.ledger))),
        )

    def joined(self, start: date, end: date, known_at: datetime | None = None) -> Answer:
        """States that deposited an instrument in a period, with their entry into force."""
        moment = known_at or self.clock.now()
        known = self.known(moment)
        items = mem.joined_between(known.ledger, start, end)
        left = mem.left_between(known.ledger, start, end)
        rows = tuple(
            {
                "iso3": j.iso3,
                "name": display_name(j.iso3),
                "change": "joined",
                "date": cell(j.deposit_date),
                "instrument": j.instrument,
                "entry_into_force": cell(j.entry_into_force),
            }
            for j in items
        ) + tuple(
            {
                "iso3": w.iso3,
                "name": display_name(w.iso3),
                "change": "withdrawal took effect",
                "date": cell(w.withdrawal_effective),
                "instrument": None,
                "entry_into_force": None,
            }
            for w in left
        )
        sources = _sources(
            e
            for r in rows
            for facts in _membership_facts(known.ledger, str(r["iso3"]))
            for e in facts
        )
        return Answer(
            kind="membership_changes",
            title=f"Who joined or left from {start.isoformat()} to {end.isoformat()}",
            as_of=end,
            known_at=moment,
            recorded_up_to=known.recorded_up_to,
            value=len(items),
            columns=("iso3", "name", "change", "date", "instrument", "entry_into_force"),
            rows=rows,
            notes=(f"{len(items)} joined, {len(left)} left",),
            sources=sources,
            data={
                "period_start": start,
                "period_end": end,
                "joined": len(items),
                "left": len(left),
            },
        )

    def state(
        self, name: str, as_of: date | None = None, known_at: datetime | None = None
    ) -> Answer:
        """One State's profile (status, reports, obligations, requests) and its timeline."""
        resolution = self.resolve_state(name)
        iso3 = resolution.iso3
        day, moment = self._times(as_of, known_at)
        known = self.known(moment, _state_need(iso3))
        profile = state_profile(known.ledger, iso3, day)
        status = profile.status
        entries = [e for e in timeline(known.ledger, iso3) if e.occurred_on.not_before <= day]
        rows = tuple(
            {
                "date": str(e.occurred_on),
                "event": e.summary,
                "source": e.source,
                "recorded_at": cell(e.recorded_at),
            }
            for e in entries
        )
        notes = []
        if resolution.warning:
            notes.append(resolution.warning)
        if status.uncertain:
            notes.append(f"a recorded date straddles {day}: the status may differ")
        if profile.initial_overdue is not None:
            notes.append(
                f"initial report overdue since {profile.initial_overdue.due.isoformat()} "
                f"({profile.initial_overdue.days_overdue} days)"
            )
        obligations = [
            {
                "article": v.article,
                "obligation": v.obligation,
                "original_deadline": v.original_deadline,
                "deadline": v.deadline_in_force,
                "extensions": [
                    {"meeting": g.meeting, "deadline": g.deadline} for g in v.extensions_granted
                ],
                "compliance_declared_on": v.compliance_declared_on,
                "status": v.status,
            }
            for v in profile.obligations
        ]
        initial_submitted = (
            profile.initial_reports[0].submitted if profile.initial_reports else None
        )
        return Answer(
            kind="state",
            title=f"{display_name(iso3)} ({iso3}): {status.status.replace('_', ' ')}",
            as_of=day,
            known_at=moment,
            recorded_up_to=known.recorded_up_to,
            value=None,
            columns=("date", "event", "source", "recorded_at"),
            rows=rows,
            notes=tuple(notes),
            sources=tuple(dict.fromkeys(e.source for e in entries)),
            data={
                "iso3": iso3,
                "name": display_name(iso3),
                "status": status.status,
                "signed_on": status.signed_on,
                "deposit_date": status.deposit_date,
                "instrument": status.instrument,
                "entry_into_force": status.entry_into_force,
                "withdrawal_received": status.withdrawal_received,
                "withdrawal_effective": status.withdrawal_effective,
                "initial_report_due": profile.initial_report_due,
                "initial_report_submitted": initial_submitted,
                "annual_reports": [
                    {"year": r.year_covered, "submitted": r.submitted, "form": r.form_version}
                    for r in profile.annual_reports
                ],
                "obligations": obligations,
                "extension_requests": [
                    {
                        "article": r.article,
                        "meeting": r.meeting,
                        "submitted": r.submitted,
                        "timeliness": r.timeliness,
                        "decision": None if r.decision is None else r.decision.outcome,
                    }
                    for r in profile.extension_requests
                ],
                "facts": [
                    {"fact": f.fact, "detail": f.detail, "source": f.source} for f in profile.facts
                ],
                "events": [
                    {
                        "date": str(e.occurred_on),
                        "type": e.type,
                        "summary": e.summary,
                        "source": e.source,
                    }
                    for e in entries
                ],
            },
        )

    def indicator_set(
        self, start: date, end: date, known_at: datetime | None = None
    ) -> tuple[tuple[Indicator, ...], KnownLedger]:
        """Computed indicators for a period, and the ledger they came from."""
        known = self.known(known_at or self.clock.now())
        return compute_indicators(known.ledger, Period(start, end)), known

    def indicators(
        self,
        start: date,
        end: date,
        area: str | None = None,
        known_at: datetime | None = None,
    ) -> Answer:
        """Progress-report figures for a period: computed ones with names, published ones
        labelled as published."""
        moment = known_at or self.clock.now()
        items, known = self.indicator_set(start, end, moment)
        wanted = None if area is None else area.strip().lower()
        if wanted is not None:
            areas = {i.area.lower() for i in items}
            matches = {a for a in areas if a.startswith(wanted) or wanted in a}
            if not matches:
                raise QueryError(
                    f"no thematic area {area!r}; choose one of "
                    + ", ".join(sorted({i.area for i in items}))
                )
            items = tuple(i for i in items if i.area.lower() in matches)
        rows: list[dict[str, Cell]] = [
            {
                "area": i.area,
                "lap_action": i.lap_action,
                "indicator": i.label,
                "value": i.value,
                "out_of": i.out_of,
                "basis": "computed from State-level events",
                "states": ", ".join(display_name(c) for c in i.states),
                "source": None,
            }
            for i in items
        ]
        for figure in published_figures(known.ledger, start, end):
            if (
                wanted is not None
                and wanted not in (figure.lap_action or "").lower()
                and not any(wanted in str(r["area"]).lower() for r in rows)
            ):
                continue
            rows.append(
                {
                    "area": None,
                    "lap_action": figure.lap_action,
                    "indicator": figure.text,
                    "value": figure.value,
                    "out_of": None,
                    "basis": "published aggregate (names not given)",
                    "states": None,
                    "source": figure.source,
                }
            )
        sources = tuple(dict.fromkeys(str(r["source"]) for r in rows if r["source"] is not None))
        return Answer(
            kind="indicators",
            title=f"Indicators for {start.isoformat()} to {end.isoformat()}",
            as_of=end,
            known_at=moment,
            recorded_up_to=known.recorded_up_to,
            value=None,
            columns=(
                "area",
                "lap_action",
                "indicator",
                "value",
                "out_of",
                "basis",
                "states",
                "source",
            ),
            rows=tuple(rows),
            notes=(
                "computed figures come from State-level events, valid as of the period's last "
                "day; published aggregates are quoted from their source as they stand",
            ),
            sources=sources,
            data={
                "period_start": start,
                "period_end": end,
                "figures": {i.key: i.value for i in items},
            },
        )

    def _next_meeting(self, ledger: Ledger) -> str | None:
        today = self.today()
        upcoming = [m for m in meetings(ledger) if m.start_date >= today]
        return upcoming[0].meeting if upcoming else None


def _passed_note(views: Iterable[obl.ObligationView]) -> str | None:
    passed = sorted(display_name(v.iso3) for v in views if v.status == "deadline_passed")
    if not passed:
        return None
    return (
        "deadline passed as recorded, but the data does not hold every extension decision, so "
        "these may have been extended: " + ", ".join(passed)
    )


def _check_year(year: int) -> None:
    if not 2010 <= year <= 2100:
        raise QueryError(f"year {year} is outside the Convention's years (2010 onwards)")


def _membership_facts(ledger: Ledger, iso3: str) -> list[Iterable[Fact]]:
    record = ledger.states.get(iso3)
    if record is None:
        return []
    return [record.signatures.values(), record.deposits.values(), record.withdrawals.values()]


def _sources(events: Iterable[Fact]) -> tuple[str, ...]:
    """Distinct sources, most cited first (ties in first-seen order)."""
    counts: dict[str, int] = {}
    for event in events:
        counts[event.source] = counts.get(event.source, 0) + 1
    return tuple(sorted(counts, key=lambda s: -counts[s]))


def _coverage_sources(ledger: Ledger, subject: str) -> tuple[str, ...]:
    return tuple(
        dict.fromkeys(
            e.source
            for e in ledger.coverage.values()
            if getattr(e.payload, "subject", None) == subject
        )
    )


def _coverage_note(ledger: Ledger, subject: str, day: date) -> str:
    periods = [
        e.payload
        for e in ledger.coverage.values()
        if getattr(e.payload, "subject", None) == subject
    ]
    if not periods:
        return f"the recorded data declares no complete coverage of {subject.replace('_', ' ')}"
    end = max(getattr(p, "period_end") for p in periods)  # noqa: B009
    if day > end:
        return (
            f"{subject.replace('_', ' ')} are recorded completely only up to {end.isoformat()}; "
            "anything after that date may be missing from the data"
        )
    return f"{subject.replace('_', ' ')} recorded completely up to {end.isoformat()}"
