"""Charts as PNG bytes (matplotlib, Agg backend, no display): what the bot sends and docs show.

Three charts, each a pure function of a ledger, a valid date and a source line:
- membership over time: deposited (States Parties), in force, Signatory States, as step lines;
- annual Article 7 reports per reporting year: on time, late, missing, stacked, only for the
  years the recorded data declares complete (elsewhere "missing" cannot be known);
- open Article 4 obligations: a bar from entry into force to the deadline in force, with
  granted extensions and pending requests marked.

8 x 6 inches at 150 dpi (1200 x 900 pixels) with large type: readable on a phone screen.
Figures are built with the object API (no pyplot state), so concurrent callers do not share one.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from typing import cast

import matplotlib

matplotlib.use("Agg")  # headless: never try to open a window

from dateutil.relativedelta import relativedelta
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.dates import date2num
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from projections import membership as mem
from projections.calendar import annual_report_due
from projections.extensions import requests_of
from projections.ledger import Ledger
from projections.obligations import open_obligations
from projections.published import coverage_declarations
from projections.reporting import annual_status
from tracker.aliases import StateLookupError, display_name
from tracker.report import ranked_sources as _ranked_sources

SIZE_INCHES = (8.0, 6.0)
DPI = 150
START = date(2008, 12, 3)  # opened for signature in Oslo (Art. 15)

COLOURS = {
    "parties": "#1f5fa8",
    "bound": "#0a7d4f",
    "signatories": "#c7721c",
    "on_time": "#0a7d4f",
    "late": "#e0a526",
    "unknown": "#8c8c8c",
    "missing": "#b83a3a",
    "open": "#1f5fa8",
    "overdue": "#b83a3a",
    "passed": "#9a9a9a",
    "extension": "#7fa7d9",
    "pending": "#555555",
}


def _figure(title: str, sources: Iterable[str], knowledge: str) -> Figure:
    fig = Figure(figsize=SIZE_INCHES, dpi=DPI)
    fig.suptitle(title, fontsize=15, fontweight="bold", x=0.02, ha="left")
    fig.text(0.02, 0.012, source_line(sources, knowledge), fontsize=8, color="#444444", ha="left")
    return fig


def source_line(sources: Iterable[str], knowledge: str, limit: int = 2) -> str:
    """ "Source: doc A; doc B and N more. <knowledge>. treaty-tracker" on one or two lines."""
    ranked = _ranked_sources(sources)
    # Long citations are cut so the line stays inside a phone-sized picture.
    shown = [d if len(d) <= 48 else d[:47].rstrip() + "…" for d in ranked[:limit]]
    text = "; ".join(shown) or "recorded events"
    if len(ranked) > limit:
        text += f" and {len(ranked) - limit} more"
    stop = "" if text.endswith("…") else "."
    return f"Source: {text}{stop}\n{knowledge}. Drawn by treaty-tracker."


def _png(fig: Figure) -> bytes:
    FigureCanvasAgg(fig)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


#: matplotlib ships date2num without annotations; this is its documented signature.
_date2num = cast(Callable[[date], float], date2num)


def _x(day: date) -> float:
    """A date as matplotlib's day number (typed APIs take floats; the axis shows dates)."""
    return float(_date2num(day))


def _name(iso3: str) -> str:
    try:
        return display_name(iso3)
    except StateLookupError:
        return iso3


def membership_series(
    ledger: Ledger, as_of: date
) -> tuple[list[date], list[int], list[int], list[int]]:
    """(dates, States Parties, in force, Signatory States) at every day one of them changes."""
    members = list(mem.memberships(ledger))
    days = {START, as_of}
    for member in members:
        for when in (
            member.signed,
            member.deposited,
            member.entry_into_force,
            member.withdrawal_effective,
        ):
            if when is not None and START <= when.not_after <= as_of:
                days.add(when.not_after)
    dates = sorted(days)
    parties, bound, signatories = [], [], []
    for day in dates:
        parties.append(sum(1 for m in members if m.is_party(day)))
        bound.append(sum(1 for m in members if m.is_bound(day)))
        signatories.append(
            sum(
                1
                for m in members
                if m.signed is not None
                and m.signed.not_after <= day
                and not (m.deposited is not None and m.deposited.not_after <= day)
                and not m.is_withdrawn(day)
            )
        )
    return dates, parties, bound, signatories


def _membership_sources(ledger: Ledger) -> list[str]:
    return [
        event.source
        for record in ledger.states.values()
        for facts in (record.signatures, record.deposits, record.withdrawals)
        for event in facts.values()
    ]


def _tidy(ax: Axes) -> None:
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.tick_params(labelsize=11)


def membership_chart(ledger: Ledger, as_of: date, knowledge: str) -> bytes:
    dates, parties, bound, signatories = membership_series(ledger, as_of)
    fig = _figure(f"CCM membership, 2008 to {as_of.year}", _membership_sources(ledger), knowledge)
    ax = fig.add_axes((0.1, 0.17, 0.84, 0.69))
    for values, key, label in (
        (parties, "parties", "States Parties (instrument deposited)"),
        (bound, "bound", "Convention in force for them"),
        (signatories, "signatories", "Signatory States (not yet ratified)"),
    ):
        ax.step(
            [_x(d) for d in dates],
            values,
            where="post",
            color=COLOURS[key],
            linewidth=2.4,
            label=label,
        )
        ax.annotate(
            str(values[-1]),
            (_x(dates[-1]), values[-1]),
            xytext=(4, -9 if key == "bound" else 5),
            textcoords="offset points",
            va="center",
            fontsize=11,
            fontweight="bold",
            color=COLOURS[key],
        )
    ax.set_xlabel("Year", fontsize=12)
    ax.set_ylabel("Number of States", fontsize=12)
    ax.set_title(f"as of {as_of.isoformat()}", fontsize=11, loc="left", color="#444444")
    ax.set_xlim(_x(START), _x(as_of + relativedelta(months=10)))
    ax.xaxis_date()
    ax.set_ylim(0, max([*parties, *signatories, 10]) * 1.12)
    ax.grid(True, axis="y", alpha=0.3)
    ax.legend(loc="center right", fontsize=10.5, frameon=False)
    _tidy(ax)
    return _png(fig)


def reports_chart(ledger: Ledger, as_of: date, knowledge: str) -> bytes:
    """Annual reports by reporting year, for the years whose coverage the data declares."""
    covered: dict[int, date] = {}
    sources: list[str] = []
    for coverage in coverage_declarations(ledger, "annual_reports"):
        year = coverage.year_covered
        if year is None or coverage.period_start > as_of:
            continue
        # Read each year as of the end of its coverage (or as_of, if earlier): beyond that
        # day the data does not say which reports are missing.
        day = min(as_of, coverage.period_end)
        covered[year] = max(covered.get(year, day), day)
        sources.append(coverage.source)
    fig = _figure("Annual Article 7 reports by reporting year", sources, knowledge)
    ax = fig.add_axes((0.1, 0.24, 0.86, 0.6))
    if not covered:
        ax.set_axis_off()
        ax.text(
            0.5,
            0.5,
            "No reporting year is recorded completely:\n"
            "missing reports cannot be told from absent data.",
            ha="center",
            va="center",
            fontsize=13,
            transform=ax.transAxes,
        )
        return _png(fig)
    years = sorted(covered)
    stacks: dict[str, list[int]] = {"on_time": [], "late": [], "unknown": [], "missing": []}
    for year in years:
        status = annual_status(ledger, year, covered[year])
        stacks["on_time"].append(len(status.on_time))
        stacks["late"].append(len(status.late))
        stacks["unknown"].append(len(status.timing_unknown) + len(status.uncertain))
        stacks["missing"].append(len(status.missing))
    labels = {
        "on_time": "On time (by 30 April)",
        "late": "Late (after 30 April)",
        "unknown": "In, timing unknown",
        "missing": "Missing",
    }
    positions = list(range(len(years)))
    bottom = [0] * len(years)
    for key, values in stacks.items():
        if key == "unknown" and not any(values):
            continue
        bars = ax.bar(
            positions, values, bottom=bottom, width=0.55, color=COLOURS[key], label=labels[key]
        )
        for bar, value, base in zip(bars, values, bottom, strict=True):
            if value:
                ax.text(
                    bar.get_x() + bar.get_width() / 2,
                    base + value / 2,
                    str(value),
                    ha="center",
                    va="center",
                    fontsize=12,
                    fontweight="bold",
                    color="white",
                )
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    ax.set_xticks(
        positions,
        [
            f"{y}\ndue {annual_report_due(y, ledger.profile).isoformat()}\n"
            f"as of {covered[y].isoformat()}"
            for y in years
        ],
        fontsize=10.5,
    )
    ax.set_xlabel("Calendar year the report covers", fontsize=12)
    ax.set_ylabel("States Parties expected to report", fontsize=12)
    ax.set_xlim(-0.8, len(years) - 0.2 + (0.8 if len(years) == 1 else 0))
    ax.set_ylim(0, max(bottom) * 1.15)
    ax.legend(loc="upper right", fontsize=10.5, frameon=False)
    if len(years) == 1:
        ax.set_title(
            f"Only {years[0]} is covered completely by the recorded data; "
            "other years are not shown",
            fontsize=10.5,
            loc="left",
            color="#444444",
        )
    _tidy(ax)
    return _png(fig)


def article4_chart(ledger: Ledger, as_of: date, knowledge: str) -> bytes:
    """Open Article 4 obligations: entry into force to deadline in force, as of `as_of`."""
    rows = []
    sources: list[str] = []
    for view in open_obligations(ledger, 4, as_of):
        if view.deadline_in_force is None:
            continue
        record = ledger.states[view.iso3]
        key = (view.article, view.obligation)
        for facts in (record.obligations, record.extension_decisions):
            sources.extend(e.source for e in facts.get(key, {}).values())
        member = mem.membership_of(ledger, view.iso3)
        eif = None if member is None else member.entry_into_force
        original = view.original_deadline or view.deadline_in_force
        start = eif.not_after if eif is not None else original - relativedelta(years=10)
        pending = [
            r
            for r in requests_of(ledger, view.iso3)
            if r.article == 4
            and r.obligation == view.obligation
            and r.submitted.not_after <= as_of
            and (r.decision is None or r.decision.decided_on.not_before > as_of)
            # A request to a meeting already held with no decision recorded is not "pending":
            # the data is silent on its outcome.
            and r.meeting_start is not None
            and r.meeting_start > as_of
        ]
        requested = max(
            (r.requested_deadline for r in pending if r.requested_deadline is not None),
            default=None,
        )
        meetings = ", ".join(sorted({r.meeting for r in pending}))
        # Colour by what the data can tell: a passed deadline is "overdue" only where every
        # extension decision is recorded; otherwise an unrecorded extension may exist.
        passed = view.deadline_in_force < as_of
        state = "open" if not passed else ("overdue" if view.status == "overdue" else "passed")
        label = _name(view.iso3) + ("" if view.obligation == "main" else f" ({view.obligation})")
        rows.append(
            _Bar(label, start, original, view.deadline_in_force, state, requested, meetings)
        )
    rows.sort(key=lambda r: (r.deadline, r.label), reverse=True)  # soonest deadline on top
    fig = _figure("Open Article 4 clearance obligations", sources, knowledge)
    ax = fig.add_axes((0.24, 0.2, 0.72, 0.58))
    if not rows:
        ax.set_axis_off()
        ax.text(
            0.5,
            0.5,
            f"No open Article 4 obligation is recorded as of {as_of.isoformat()}.",
            ha="center",
            va="center",
            fontsize=13,
            transform=ax.transAxes,
        )
        return _png(fig)
    for y, row in enumerate(rows):
        colour = COLOURS[row.state]
        ax.barh(y, (row.original - row.start).days, left=_x(row.start), height=0.55, color=colour)
        if row.deadline > row.original:
            ax.barh(
                y,
                (row.deadline - row.original).days,
                left=_x(row.original),
                height=0.55,
                color=COLOURS["extension"],
                edgecolor=colour,
                hatch="//",
            )
        ax.plot([_x(row.deadline)], [y], marker="|", markersize=18, color="black")
        end = row.deadline
        if row.requested is not None and row.requested > row.deadline:
            ax.plot(
                [_x(row.deadline), _x(row.requested)],
                [y, y],
                linestyle=":",
                linewidth=2.2,
                color=COLOURS["pending"],
            )
            ax.plot([_x(row.requested)], [y], marker=">", markersize=7, color=COLOURS["pending"])
            end = row.requested
        text = row.deadline.isoformat()
        if row.pending:
            text += f"  (request to {row.pending})"
        ax.annotate(
            text,
            (_x(end), y),
            xytext=(6, 0),
            textcoords="offset points",
            va="center",
            fontsize=9.5,
        )
    ax.axvline(_x(as_of), color="black", linestyle="--", linewidth=1.2)
    ax.text(_x(as_of), len(rows) - 0.45, f" as of {as_of.isoformat()}", fontsize=9.5, va="bottom")
    ax.set_yticks(range(len(rows)), [r.label for r in rows], fontsize=11)
    ax.set_xlabel("Entry into force to deadline in force", fontsize=12)
    latest = max(r.requested or r.deadline for r in rows)
    first = min(r.start for r in rows)
    ax.set_xlim(
        _x(first - relativedelta(months=6)), _x(max(latest, as_of) + relativedelta(years=3))
    )
    ax.xaxis_date()
    ax.set_ylim(-0.7, len(rows) - 0.05)
    _tidy(ax)
    states = {r.state for r in rows}
    handles: list[Artist] = [Patch(color=COLOURS["open"], label="Deadline ahead")]
    if "overdue" in states:
        handles.append(Patch(color=COLOURS["overdue"], label="Deadline passed, no compliance"))
    if "passed" in states:
        handles.append(
            Patch(color=COLOURS["passed"], label="Deadline passed; an extension may be unrecorded")
        )
    if any(r.deadline > r.original for r in rows):
        handles.append(
            Patch(
                facecolor=COLOURS["extension"],
                edgecolor=COLOURS["open"],
                hatch="//",
                label="Extension granted",
            )
        )
    if any(r.requested for r in rows):
        handles.append(
            Line2D([0], [0], linestyle=":", color=COLOURS["pending"], label="Extension requested")
        )
    fig.legend(
        handles=handles,
        loc="upper left",
        fontsize=9.5,
        frameon=False,
        ncol=2,
        bbox_to_anchor=(0.02, 0.93),
    )
    return _png(fig)


@dataclass(frozen=True)
class _Bar:
    label: str
    start: date
    original: date
    deadline: date
    #: "open", "overdue" or "passed" (deadline passed, extensions possibly unrecorded).
    state: str
    requested: date | None
    #: Meetings a request still undecided at `as_of` is addressed to ("" when none).
    pending: str
