"""The progress report, drafted from the recorded events for any period: compose, then render.

The shape follows the 12MSP Progress Report (CCM/MSP/2024/7): a summary, then one "Indicator
results in numbers" table of Lausanne Action Plan (LAP) actions per thematic area, guiding
principles through compliance. Each row is computed from State-level events where an indicator
answers that LAP indicator exactly (`Indicator.published_as`), else the published aggregate is
quoted with its source and labelled "published, States not named", else the row says nothing is
recorded. A computed figure keeps the names of the States behind it and, where the source
publishes the same figure, the published value beside it.

`compose_report` is a pure function of a ledger and its indicators; the renderers (Markdown,
self-contained HTML, CSV, JSON) are pure functions of the composed `ProgressReport`.
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any, Literal

from events.schema import Event, StateFactReported
from projections.indicators import Indicator, Period
from projections.ledger import Ledger, StateRecord
from projections.published import PublishedFigure, coverage_declarations, published_figures
from tracker.aliases import StateLookupError, display_name
from tracker.answers import iso_utc, jsonable

Basis = Literal["computed", "published", "not recorded"]
ReportFormat = Literal["md", "html", "csv", "json"]
FORMATS: tuple[str, ...] = ("md", "html", "csv", "json")

PUBLISHED_LABEL = "published, States not named"
NOT_RECORDED = "no figure recorded for this period"


@dataclass(frozen=True)
class Area:
    letter: str
    name: str
    #: LAP action numbers reported under this area in the 12MSP report.
    actions: tuple[int, ...]


AREAS: tuple[Area, ...] = (
    Area("A", "Guiding Principles", (1, 2, 3, 5, 6, 7, 8, 9)),
    Area("B", "Gender Mainstreaming", (4,)),
    Area("C", "Universalization", (10, 11)),
    Area("D", "Stockpile Destruction and Retention", (12, 13, 14, 15, 16, 17)),
    Area("E", "Survey and Clearance", (18, 19, 20, 21, 22, 23, 24, 25, 26)),
    Area("F", "Risk Education", (27, 28, 29, 30)),
    Area("G", "Victim Assistance", (31, 32, 33, 34, 35, 36, 37)),
    Area("H", "International Cooperation and Assistance", (38, 39, 40, 41, 42)),
    Area("I", "Transparency Measures", (43, 44, 45, 46)),
    Area("J", "National Implementation Measures", (47, 48)),
    Area("K", "Compliance", (49, 50)),
)
OTHER_AREA = "Other figures"

#: `projections.indicators` names its areas in its own words; the report uses the seed's.
_INDICATOR_AREAS: dict[str, str] = {
    "universalization": "Universalization",
    "stockpile destruction and retention": "Stockpile Destruction and Retention",
    "survey and clearance": "Survey and Clearance",
    "risk education": "Risk Education",
    "victim assistance": "Victim Assistance",
    "international cooperation and assistance": "International Cooperation and Assistance",
    "transparency measures": "Transparency Measures",
    "national implementation measures": "National Implementation Measures",
    "compliance": "Compliance",
    "gender and diverse needs": "Gender Mainstreaming",
    "gender mainstreaming": "Gender Mainstreaming",
    "guiding principles": "Guiding Principles",
}

#: Every indicator row of the 12MSP LAP tables: (published figure name, LAP action, label).
#: The label is used when no figure is recorded for the period; otherwise the published text
#: (or the computed indicator's label) is shown.
LAP_ROWS: tuple[tuple[str, int, str], ...] = (
    ("lap.a01.plans_integration", 1, "SPs that include Convention implementation in plans"),
    ("lap.a01.national_capacity", 1, "SPs that enhanced national capacity or commitments"),
    ("lap.a02.national_strategy", 2, "Affected SPs with a comprehensive national strategy"),
    ("lap.a02.annual_work_plans", 2, "Affected SPs with annual work plans"),
    ("lap.a03.donor_support", 3, "Donor SPs providing financial or other support"),
    ("lap.a03.multi_year_funding", 3, "Donor SPs providing multi-year funding"),
    ("lap.a05.inclusive_strategies", 5, "Affected SPs with inclusively developed strategies"),
    ("lap.a05.victims_in_delegations", 5, "SPs including victims in their delegations"),
    ("lap.a06.national_standards", 6, "Affected SPs that updated national standards (IMAS)"),
    ("lap.a07.information_management", 7, "Affected SPs with an information management system"),
    ("lap.a08.coordination", 8, "SPs coordinating with related instruments and activities"),
    ("lap.a09.contributions_on_time", 9, "SPs paying assessed contributions on time"),
    ("lap.a09.isu_contributors", 9, "SPs contributing to the ISU budget"),
    ("lap.a04.gender_in_plans", 4, "SPs whose plans integrate gender and diversity"),
    ("lap.a04.women_presiding", 4, "SPs where women presided over Convention engagement"),
    ("lap.a04.women_coordination_committee", 4, "Women contributing to the Coordination Committee"),
    ("lap.a04.women_in_delegations", 4, "Women in State Party delegations at meetings"),
    ("lap.a04.delegations_headed_by_women", 4, "State Party delegations headed by women"),
    ("lap.a10.new_states_parties", 10, "New States Parties to the Convention"),
    ("lap.a10.non_parties_at_msp", 10, "States not party that took part in the MSP"),
    ("lap.a10.voluntary_reports", 10, "States not party with a voluntary Article 7 report"),
    ("lap.a11.confirmed_use", 11, "Confirmed cases of cluster munition use"),
    ("lap.a11.unga_non_parties_in_favour", 11, "States not party voting for the UNGA resolution"),
    ("lap.a11.moratoria", 11, "States not party with moratoria or stockpiles destroyed"),
    ("lap.a11.meetings_with_possessors", 11, "Dedicated meetings with States not party"),
    ("lap.a12.destruction_plan", 12, "SPs with Article 3 obligations with a destruction plan"),
    ("lap.a12.progress_reported", 12, "SPs with Article 3 obligations reporting progress"),
    ("lap.a13.art3_compliance_declared", 13, "SPs that declared Article 3 compliance"),
    ("lap.a14.stockpiles_discovered", 14, "SPs that discovered previously unknown stockpiles"),
    ("lap.a15.art3_costed_requests", 15, "Article 3 extension requests with costed plans"),
    ("lap.a16.destruction_experience", 16, "SPs sharing stockpile destruction experience"),
    ("lap.a17.retaining", 17, "SPs retaining cluster munitions under Article 3.6"),
    ("lap.a17.retained_munitions_destroyed", 17, "Retained cluster munitions destroyed"),
    ("lap.a17.retained_submunitions_destroyed", 17, "Retained explosive submunitions destroyed"),
    ("lap.a18.baseline_survey", 18, "Affected SPs that completed a baseline survey"),
    ("lap.a18.marking", 18, "Affected SPs marking hazardous areas"),
    ("lap.a19.strategies", 19, "Affected SPs with evidence-based strategies and plans"),
    ("lap.a19.progress", 19, "Affected SPs reporting detailed progress"),
    ("lap.a20.art4_costed_requests", 20, "Article 4 extension requests with costed plans"),
    ("lap.a21.innovation", 21, "Affected SPs promoting innovative methodologies"),
    ("lap.a21.efficiency", 21, "Affected SPs reporting survey and clearance efficiency"),
    ("lap.a22.residual_capacity", 22, "Affected SPs planning capacity for residual risk"),
    ("lap.a23.sdg_considerations", 23, "Affected SPs with humanitarian/SDG prioritization"),
    ("lap.a23.gender_in_clearance", 23, "Affected SPs with gender in clearance planning"),
    ("lap.a24.disaggregated_contamination", 24, "Affected SPs with disaggregated data"),
    ("lap.a25.art4_completed", 25, "SPs that completed Article 4 and declared compliance"),
    ("lap.a26.lessons_shared", 26, "SPs sharing experiences and lessons learned"),
    ("lap.a27.risk_education_integrated", 27, "Affected SPs integrating risk education"),
    ("lap.a28.tailored_risk_education", 28, "Affected SPs with tailor-made risk education"),
    ("lap.a29.at_risk_groups", 29, "Affected SPs with disaggregated risk reporting"),
    ("lap.a29.impact_measures", 29, "Affected SPs measuring risk education impact"),
    ("lap.a30.residual_risk_education", 30, "Affected SPs planning residual risk education"),
    ("lap.a31.disaggregated_data", 31, "SPs collecting disaggregated victim data"),
    ("lap.a32.policies_sdg_crpd", 32, "SPs addressing victims' needs in policy (SDGs, CRPD)"),
    ("lap.a33.action_plan", 33, "SPs with a measurable national action plan"),
    ("lap.a33.focal_point", 33, "SPs with a national victim assistance focal point"),
    ("lap.a34.medical_care", 34, "SPs providing emergency and continuing medical care"),
    ("lap.a34.rehabilitation", 34, "SPs with rehabilitation and psychosocial services"),
    ("lap.a35.socio_economic_inclusion", 35, "SPs improving socio-economic inclusion"),
    ("lap.a36.inclusive_laws", 36, "States with laws developed with victims included"),
    ("lap.a36.victims_in_delegations", 36, "SPs including victims in their delegations"),
    ("lap.a37.training", 37, "SPs supporting training of victim assistance professionals"),
    ("lap.a37.qualified_personnel", 37, "SPs providing victim assistance by qualified staff"),
    ("lap.a38.national_resources", 38, "SPs committing national resources"),
    ("lap.a38.innovative_financing", 38, "SPs leveraging innovative financing"),
    ("lap.a39.best_practices", 39, "SPs sharing best practices through cooperation"),
    ("lap.a39.reciprocal_cooperation", 39, "SPs engaging in reciprocal cooperation"),
    ("lap.a40.provided_or_received", 40, "SPs providing or receiving assistance"),
    ("lap.a41.coherent_plans", 41, "SPs with coherent national plans for assistance"),
    ("lap.a41.seeking_support", 41, "SPs seeking support and reporting needs"),
    ("lap.a42.country_coalitions", 42, "SPs using the country coalition mechanism"),
    ("lap.a43.reports_by_30_april", 43, "SPs with an initial or annual report by 30 April"),
    ("lap.a44.obligation_holders_reporting", 44, "SPs with obligations reporting in 2 years"),
    ("lap.a45.revised_form", 45, "SPs using the revised Article 7 reporting form"),
    ("lap.a46.reporting_assistance", 46, "SPs that received help preparing Article 7 reports"),
    ("lap.a47.all_national_measures", 47, "SPs that adopted all national measures"),
    ("lap.a47.national_legislation", 47, "of which: SPs with national legislation"),
    ("lap.a47.existing_law_sufficient", 47, "of which: SPs considering existing law sufficient"),
    ("lap.a47.disseminated", 47, "SPs that disseminated obligations nationally"),
    ("lap.a48.legislation_challenges", 48, "SPs reporting challenges with legislation"),
    ("lap.a48.legislation_assistance", 48, "SPs requesting legislative assistance"),
    ("lap.a49.non_compliance", 49, "SPs found in non-compliance by the MSP"),
    ("lap.a50.timely_extension_requests", 50, "SPs submitting extension requests on time"),
)

#: Computed indicators that answer a published figure exactly but do not name it themselves.
#: "disseminated" counts States that reported dissemination to date, as LAP Action 47 does.
EXTRA_PUBLISHED_AS: dict[str, str] = {"disseminated": "lap.a47.disseminated"}

#: Published figures outside the LAP tables that state the same quantity as an indicator, for
#: the side-by-side column (the names are those of the bundled 12MSP figures).
COMPARED_WITH: dict[str, tuple[str, ...]] = {
    "parties": ("para31.states_parties",),
    "signatories": ("para31.signatories",),
    "signed_or_joined": ("para31.committed",),
    "art4_open": ("para54.art4_current",),
    "annual_expected": ("para98.annual_2023_expected",),
    "annual_submitted": ("para98.annual_2023_submitted",),
    "initial_submitted_total": ("para104.initial_submitted",),
}

#: Where a published figure outside the LAP tables belongs, by the paragraph it quotes.
_PARAGRAPH_AREAS: tuple[tuple[str, str], ...] = (
    ("para31.", "Universalization"),
    ("para42.", "Stockpile Destruction and Retention"),
    ("para53.", "Survey and Clearance"),
    ("para54.", "Survey and Clearance"),
    ("para98.", "Transparency Measures"),
    ("para104.", "Transparency Measures"),
    ("para121.", "National Implementation Measures"),
    ("summary.gender", "Gender Mainstreaming"),
)

#: Which recorded facts feed each indicator, to cite the sources behind a computed figure.
_MEMBERSHIP = ("signatures", "deposits", "withdrawals")
_REPORTS = ("initial_reports", "annual_reports")
_FEEDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "parties": (_MEMBERSHIP, ()),
    "bound": (_MEMBERSHIP, ()),
    "signatories": (_MEMBERSHIP, ()),
    "signed_or_joined": (_MEMBERSHIP, ()),
    "new_parties": (_MEMBERSHIP, ()),
    "annual_expected": (("annual_reports", "initial_reports", *_MEMBERSHIP), ()),
    "annual_submitted": (("annual_reports",), ()),
    "annual_on_time": (("annual_reports",), ()),
    "annual_late": (("annual_reports",), ()),
    "initial_received": (("initial_reports",), ()),
    "initial_submitted_total": (("initial_reports",), ()),
    "initial_overdue": (("initial_reports", *_MEMBERSHIP), ()),
    "reports_by_30_april": (_REPORTS, ()),
    "revised_form": (_REPORTS, ()),
    "overdue_earlier_submitted": (_REPORTS, ()),
    "art3_compliance": (("compliance",), ()),
    "art4_compliance": (("compliance",), ()),
    "art4_open": (("obligations", "extension_decisions"), ()),
    "art4_requests": (("extension_requests",), ()),
    "requests_on_time": (("extension_requests",), ()),
    "form_j": (("facts",), ("used_form_j",)),
    "gender_other_forms": (("facts",), ("gender_in_other_forms",)),
    "retention": (("facts",), ("retains_cluster_munitions",)),
    "victims": (("facts",), ("has_cluster_munition_victims",)),
    "assistance_provided": (("facts",), ("provided_assistance",)),
    "assistance_received": (("facts",), ("received_assistance",)),
    "assistance_provided_or_received": (
        ("facts",),
        ("provided_assistance", "received_assistance"),
    ),
    "disseminated": (("facts",), ("disseminated_obligations",)),
}
_COVERAGE_SUBJECTS: dict[str, str] = {
    "signatures": "membership",
    "deposits": "membership",
    "withdrawals": "membership",
    "initial_reports": "initial_reports",
    "annual_reports": "annual_reports",
    "obligations": "obligations",
    "compliance": "obligations",
    "extension_requests": "extensions",
    "extension_decisions": "extensions",
    "facts": "state_facts",
}
_ALL_FEEDS = (*_MEMBERSHIP, *_REPORTS, "obligations", "compliance", "extension_requests", "facts")


@dataclass(frozen=True)
class Figure:
    """One row of the report: a computed indicator, a published aggregate, or a gap."""

    key: str
    area: str
    lap_action: str | None
    indicator: str
    value: int | None
    basis: Basis
    #: Display names of the States behind a computed figure, sorted; empty otherwise.
    states: tuple[str, ...] = ()
    #: Where the figure comes from: the published document, or the sources of the events.
    source: str | None = None
    out_of: int | None = None
    note: str | None = None
    #: The same quantity as a source publishes it, beside a computed figure.
    published_value: int | None = None
    published_source: str | None = None

    @property
    def shown_value(self) -> str:
        if self.value is None:
            return "XX" if self.basis == "published" else "–"
        return f"{self.value} of {self.out_of}" if self.out_of is not None else str(self.value)

    @property
    def basis_label(self) -> str:
        if self.basis == "computed":
            return "computed from State-level events"
        if self.basis == "published":
            return PUBLISHED_LABEL
        return NOT_RECORDED


@dataclass(frozen=True)
class AreaSection:
    letter: str
    name: str
    #: LAP rows in the seed's order, then published figures of the area outside the tables.
    rows: tuple[Figure, ...]


@dataclass(frozen=True)
class SummaryItem:
    area: str
    lines: tuple[str, ...]


@dataclass(frozen=True)
class ProgressReport:
    convention: str
    period_start: date
    period_end: date
    known_at: datetime
    recorded_up_to: datetime | None
    summary: tuple[SummaryItem, ...]
    areas: tuple[AreaSection, ...]
    #: Every computed indicator, with the names behind it.
    computed: tuple[Figure, ...]
    #: Documents the figures come from, most cited first.
    sources: tuple[str, ...]
    notes: tuple[str, ...]

    @property
    def title(self) -> str:
        return f"{self.convention}: progress report (draft)"

    @property
    def period_text(self) -> str:
        return f"{_long_date(self.period_start)} to {_long_date(self.period_end)}"

    @property
    def knowledge_text(self) -> str:
        """The knowledge time said the way every answer says it."""
        up_to = self.recorded_up_to or self.known_at
        return f"data as recorded up to {iso_utc(min(up_to, self.known_at))}"

    def figures(self) -> tuple[Figure, ...]:
        """Every figure once: area rows, then computed indicators not shown in an area table."""
        rows = [row for area in self.areas for row in area.rows]
        placed = {row.key for row in rows if row.basis == "computed"}
        return (*rows, *(f for f in self.computed if f.key not in placed))

    def to_json(self) -> dict[str, Any]:
        def figure(f: Figure) -> dict[str, Any]:
            return {
                "key": f.key,
                "area": f.area,
                "lap_action": f.lap_action,
                "indicator": f.indicator,
                "value": f.value,
                "out_of": f.out_of,
                "basis": f.basis,
                "states": list(f.states),
                "source": f.source,
                "note": f.note,
                "published_value": f.published_value,
                "published_source": f.published_source,
            }

        body = {
            "kind": "progress_report",
            "title": self.title,
            "period_start": self.period_start,
            "period_end": self.period_end,
            "as_of": self.period_end,
            "known_at": self.known_at,
            "recorded_up_to": self.recorded_up_to,
            "summary": [{"area": s.area, "lines": list(s.lines)} for s in self.summary],
            "areas": [
                {
                    "letter": a.letter,
                    "name": a.name,
                    "rows": [figure(f) for f in a.rows],
                }
                for a in self.areas
            ],
            "computed": [figure(f) for f in self.computed],
            "notes": list(self.notes),
            "sources": list(self.sources),
        }
        result: dict[str, Any] = jsonable(body)
        return result


# --- composing ---------------------------------------------------------------------------------


def compose_report(
    ledger: Ledger,
    indicators: Sequence[Indicator],
    period: Period,
    known_at: datetime,
    recorded_up_to: datetime | None,
) -> ProgressReport:
    """The report for `period` from a ledger and the indicators computed on it."""
    published = published_for(ledger, period)
    computed = tuple(_computed_figure(ledger, i, period, published) for i in indicators)
    computed_by_published = {
        name: figure
        for indicator, figure in zip(indicators, computed, strict=True)
        for name in _published_names(indicator)
    }
    used: set[str] = set()
    sections = []
    for area in AREAS:
        rows = list(_lap_rows(area, computed, computed_by_published, published, used))
        rows.extend(_other_published(area.name, published, used))
        sections.append(AreaSection(area.letter, area.name, tuple(rows)))
    leftovers = tuple(_other_published(OTHER_AREA, published, used))
    if leftovers:
        sections.append(AreaSection("", OTHER_AREA, leftovers))
    figures = [row for section in sections for row in section.rows]
    sources = ranked_sources(
        [
            f.source
            for f in (*figures, *computed)
            if f.source is not None and f.basis != "not recorded"
        ]
    )
    notes = (
        f"Figures are valid as of {period.end.isoformat()}, the last day of the period.",
        "Computed figures are counted from State-level events, each with the States behind it; "
        "published figures are quoted from their source as they stand, without names.",
        "Where a source publishes a figure that is also computed, both are shown; a difference "
        "is worth checking against the source's own lists.",
    )
    return ProgressReport(
        convention=ledger.profile.name,
        period_start=period.start,
        period_end=period.end,
        known_at=known_at,
        recorded_up_to=recorded_up_to,
        summary=_summary(computed, sections, period),
        areas=tuple(sections),
        computed=computed,
        sources=sources,
        notes=notes,
    )


def published_for(ledger: Ledger, period: Period) -> dict[str, PublishedFigure]:
    """Published figures stated for the period, by name (the latest publication of each).

    A figure belongs to the period when the day it describes falls within it and it does not
    start before it; cumulative figures ("since entry into force") carry no start.
    """
    found: dict[str, PublishedFigure] = {}
    for figure in published_figures(ledger):  # ordered by name, then publication date
        end = figure.period_end
        if end is None or not period.contains(end):
            continue
        if figure.period_start is not None and figure.period_start < period.start:
            continue
        found[figure.figure] = figure
    return found


def _published_names(indicator: Indicator) -> tuple[str, ...]:
    names = [indicator.published_as, EXTRA_PUBLISHED_AS.get(indicator.key)]
    names.extend(COMPARED_WITH.get(indicator.key, ()))
    return tuple(dict.fromkeys(n for n in names if n is not None))


def _area_of(indicator: Indicator) -> str:
    return _INDICATOR_AREAS.get(indicator.area.strip().lower(), OTHER_AREA)


def state_name(iso3: str) -> str:
    """The State's display name; the code itself when the alias table does not know it."""
    try:
        return display_name(iso3)
    except StateLookupError:
        return iso3  # a code the alias table does not know is still worth showing


def _computed_figure(
    ledger: Ledger,
    indicator: Indicator,
    period: Period,
    published: Mapping[str, PublishedFigure],
) -> Figure:
    compared = next((published[n] for n in _published_names(indicator) if n in published), None)
    note = indicator.note
    if note is not None:
        # Notes name States by code ("SSD entry into force 2024-02-01"); readers want names.
        note = re.sub(r"\b[A-Z]{3}\b", lambda m: state_name(m.group(0)), note)
    if compared is not None and compared.value != indicator.value:
        shown = "XX" if compared.value is None else str(compared.value)
        difference = f"the source publishes {shown} ({compared.source})"
        note = difference if note is None else f"{note}; {difference}"
    return Figure(
        key=indicator.key,
        area=_area_of(indicator),
        lap_action=indicator.lap_action,
        indicator=indicator.label,
        value=indicator.value,
        basis="computed",
        states=tuple(sorted((state_name(c) for c in indicator.states), key=str.casefold)),
        source="; ".join(_figure_sources(ledger, indicator, period)) or None,
        out_of=indicator.out_of,
        note=note,
        published_value=None if compared is None else compared.value,
        published_source=None if compared is None else compared.source,
    )


def _lap_rows(
    area: Area,
    computed: Sequence[Figure],
    computed_by_published: Mapping[str, Figure],
    published: Mapping[str, PublishedFigure],
    used: set[str],
) -> Iterator[Figure]:
    actions = {f"Action {n}" for n in area.actions}
    catalogued = [row for row in LAP_ROWS if row[1] in area.actions]
    known = {name for name, _, _ in catalogued}
    # A figure published for this area's actions but not in the catalogue is still shown.
    extra = [
        (f.figure, int(f.lap_action.split()[-1]), f.text)
        for f in published.values()
        if f.lap_action in actions and f.figure not in known
    ]
    placed: set[str] = set()
    for name, action, label in sorted([*catalogued, *extra], key=lambda r: _row_order(r, area)):
        lap = f"Action {action}"
        figure = computed_by_published.get(name)
        if figure is not None and figure.key not in placed:
            placed.add(figure.key)
            used.add(name)
            yield _replace(figure, area=area.name, lap_action=lap)
            continue
        found = published.get(name)
        if found is not None:
            used.add(name)
            yield _published_figure(found, area.name)
            continue
        yield Figure(name, area.name, lap, label, None, "not recorded", note=NOT_RECORDED)
    # Indicators that name an action of this area but no published row: shown after the rows.
    for figure in computed:
        if figure.lap_action in actions and figure.key not in placed:
            placed.add(figure.key)
            yield _replace(figure, area=area.name)


def _row_order(row: tuple[str, int, str], area: Area) -> tuple[int, int]:
    name, action, _ = row
    catalogue = [r[0] for r in LAP_ROWS]
    position = catalogue.index(name) if name in catalogue else len(catalogue)
    return (area.actions.index(action) if action in area.actions else 99, position)


def _published_figure(found: PublishedFigure, area: str) -> Figure:
    return Figure(
        key=found.figure,
        area=area,
        lap_action=found.lap_action,
        indicator=found.text,
        value=found.value,
        basis="published",
        source=found.source,
        note=PUBLISHED_LABEL if found.value is not None else f"{PUBLISHED_LABEL}; no number given",
    )


def _other_published(
    area: str, published: Mapping[str, PublishedFigure], used: set[str]
) -> Iterator[Figure]:
    """Published figures outside the LAP tables: beside their area's table, unless a computed
    figure already shows them."""
    compared = {n for names in COMPARED_WITH.values() for n in names}
    for name in sorted(published):
        if name in used or name in compared:
            continue
        found = published[name]
        home = next((a for prefix, a in _PARAGRAPH_AREAS if name.startswith(prefix)), None)
        if found.lap_action is not None:
            continue  # placed in its action's table
        if home == area or (home is None and area == OTHER_AREA):
            used.add(name)
            yield _published_figure(found, area)


def _replace(figure: Figure, **changes: Any) -> Figure:
    return replace(figure, **changes)


def _figure_sources(ledger: Ledger, indicator: Indicator, period: Period) -> tuple[str, ...]:
    attributes, facts = _FEEDS.get(indicator.key, (_ALL_FEEDS, ()))
    events: list[Event] = []
    for iso3 in indicator.states:
        record = ledger.states.get(iso3)
        if record is not None:
            events.extend(_events_of(record, attributes, facts))
    found = ranked_sources(e.source for e in events if e.occurred_on.not_before <= period.end)
    if found:
        return found
    # A figure of zero names no State: cite what the data declares complete for it instead.
    subjects = {_COVERAGE_SUBJECTS[a] for a in attributes if a in _COVERAGE_SUBJECTS}
    return ranked_sources(c.source for c in coverage_declarations(ledger) if c.subject in subjects)


def _events_of(
    record: StateRecord, attributes: Iterable[str], facts: tuple[str, ...]
) -> Iterator[Event]:
    for attribute in attributes:
        value = getattr(record, attribute)
        nested = (
            value.values()
            if attribute not in ("facts", *_MEMBERSHIP, "initial_reports")
            else [value]
        )
        for bucket in nested:
            for event in bucket.values():
                payload = event.payload
                if facts and isinstance(payload, StateFactReported) and payload.fact not in facts:
                    continue
                yield event


_PARAGRAPHS = re.compile(r"\s+\(?(?:paras?|paragraphs?)\b.*$", re.IGNORECASE)


def document_of(source: str) -> str:
    """The document a source string cites, without its paragraph numbers."""
    return _PARAGRAPHS.sub("", source).strip() or source


def ranked_sources(sources: Iterable[str]) -> tuple[str, ...]:
    """Documents cited by `sources` ("a; b" strings are split), most cited first."""
    counts = Counter(document_of(s) for part in sources for s in _split_sources(part) if s)
    return tuple(sorted(counts, key=lambda s: (-counts[s], s)))


def _split_sources(text: str) -> list[str]:
    """Split "a; b" at top level only: a "; " inside a parenthesised remark is not a source."""
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    for i, char in enumerate(text):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == ";" and depth <= 0 and text[i + 1 : i + 2] == " ":
            parts.append("".join(current).strip())
            current = []
            continue
        current.append(char)
    parts.append("".join(current).strip())
    return parts


# --- summary -----------------------------------------------------------------------------------


def _names(figure: Figure, limit: int = 12) -> str:
    if not figure.states:
        return ""
    if len(figure.states) > limit:
        return ""
    return " (" + ", ".join(figure.states) + ")"


def _plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _summary(
    computed: Sequence[Figure], sections: Sequence[AreaSection], period: Period
) -> tuple[SummaryItem, ...]:
    """Sentences generated from the figures, area by area, in the seed's order."""
    f = {figure.key: figure for figure in computed}
    year = period.report_year
    due = _long_date(date(year + 1, 4, 30))
    end = _long_date(period.end)
    lines: dict[str, list[str]] = {area.name: [] for area in AREAS}

    def have(*keys: str) -> bool:
        return all(k in f and f[k].value is not None for k in keys)

    def v(key: str) -> int:
        value = f[key].value
        return 0 if value is None else value

    uni = lines["Universalization"]
    if have("signed_or_joined", "parties", "signatories"):
        uni.append(
            f"As of {end}, {v('signed_or_joined')} States had signed, ratified or acceded to "
            f"the Convention: {_plural(v('parties'), 'State Party', 'States Parties')} and "
            f"{_plural(v('signatories'), 'Signatory State', 'Signatory States')}."
        )
    if have("bound", "parties") and v("bound") != v("parties"):
        uni.append(f"The Convention was in force for {v('bound')} of them.")
    if have("new_parties"):
        new = f["new_parties"]
        joined = _plural(v("new_parties"), "new State Party", "new States Parties")
        if new.note and v("new_parties"):
            # The note reads "South Sudan entry into force 2024-02-01; …".
            detail = new.note.replace(" entry into force ", ", in force from ")
            uni.append(f"{joined} joined during the period: {detail}.")
        else:
            uni.append(f"{joined} joined during the period{_names(new)}.")

    tra = lines["Transparency Measures"]
    if have("annual_submitted", "annual_expected"):
        text = (
            f"{v('annual_submitted')} of the {v('annual_expected')} annual Article 7 reports "
            f"expected for {year} were submitted by {end}"
        )
        if have("annual_on_time", "annual_late"):
            text += f": {v('annual_on_time')} by the due date of {due}, {v('annual_late')} after it"
        tra.append(text + ".")
    if have("initial_received"):
        tra.append(
            f"{_plural(v('initial_received'), 'initial report was', 'initial reports were')} "
            f"received during the period{_names(f['initial_received'])}."
        )
    if have("initial_submitted_total", "initial_overdue"):
        total = f["initial_submitted_total"]
        tra.append(
            f"{v('initial_submitted_total')} of {total.out_of} States Parties had submitted "
            f"their initial report; {v('initial_overdue')} remained overdue"
            + (f": {f['initial_overdue'].note}." if f["initial_overdue"].note else ".")
        )
    if have("revised_form"):
        tra.append(
            f"{_plural(v('revised_form'), 'State Party', 'States Parties')} used the revised "
            "Article 7 reporting form."
        )
    if have("overdue_earlier_submitted"):
        tra.append(
            f"{_plural(v('overdue_earlier_submitted'), 'State Party', 'States Parties')} "
            f"submitted overdue reports for years before {year}."
        )

    gen = lines["Gender Mainstreaming"]
    if have("form_j", "gender_other_forms"):
        gen.append(
            f"{_plural(v('form_j'), 'State Party', 'States Parties')} reported on gender and "
            f"diversity in Form J{_names(f['form_j'])}, and {v('gender_other_forms')} in other "
            f"forms of the reporting template{_names(f['gender_other_forms'])}."
        )

    sto = lines["Stockpile Destruction and Retention"]
    if have("art3_compliance"):
        sto.append(
            f"{_plural(v('art3_compliance'), 'State Party', 'States Parties')} declared "
            f"compliance with Article 3 during the period{_names(f['art3_compliance'])}."
        )
    if have("retention"):
        sto.append(
            f"{_plural(v('retention'), 'State Party', 'States Parties')} reported retaining "
            "cluster munitions under Article 3.6."
        )

    sur = lines["Survey and Clearance"]
    if have("art4_open"):
        sur.append(
            f"{_plural(v('art4_open'), 'State Party has', 'States Parties have')} open "
            f"Article 4 obligations{_names(f['art4_open'])}."
        )
    if have("art4_compliance"):
        sur.append(
            f"{_plural(v('art4_compliance'), 'State Party', 'States Parties')} declared "
            f"completion of Article 4 obligations{_names(f['art4_compliance'])}."
        )
    if have("art4_requests"):
        meeting = f["art4_requests"].indicator.rsplit(" ", 1)[-1]
        requests = _plural(
            v("art4_requests"),
            "Article 4 extension request was",
            "Article 4 extension requests were",
        )
        sur.append(
            f"{requests} submitted for consideration at {meeting}{_names(f['art4_requests'])}."
        )

    vic = lines["Victim Assistance"]
    if have("victims"):
        vic.append(
            f"{_plural(v('victims'), 'State Party is', 'States Parties are')} considered to "
            f"have cluster munition victims{_names(f['victims'])}."
        )

    ica = lines["International Cooperation and Assistance"]
    if have("assistance_provided", "assistance_received"):
        ica.append(
            f"{_plural(v('assistance_provided'), 'State Party', 'States Parties')} reported "
            f"providing assistance and {v('assistance_received')} reported receiving it."
        )

    nim = lines["National Implementation Measures"]
    if have("disseminated"):
        nim.append(
            f"{_plural(v('disseminated'), 'State Party has', 'States Parties have')} reported "
            "disseminating Convention obligations to national institutions, to date."
        )

    com = lines["Compliance"]
    if have("requests_on_time"):
        meeting = f["requests_on_time"].indicator.split(" for ", 1)[-1].split(" ", 1)[0]
        com.append(
            f"{_plural(v('requests_on_time'), 'extension request', 'extension requests')} for "
            f"{meeting} {'was' if v('requests_on_time') == 1 else 'were'} submitted at least "
            "nine months before the meeting."
        )

    # Areas with no computed figure are summarised by what their sources publish.
    for section in sections:
        if lines.get(section.name) or section.name not in lines:
            continue
        published = [r for r in section.rows if r.basis == "published" and r.value is not None]
        if published:
            lines[section.name].append(
                f"{_plural(len(published), 'figure is', 'figures are')} published for this "
                f"area, without names (section {section.letter}); for example: "
                f"{published[0].indicator}"
            )
    return tuple(
        SummaryItem(area.name, tuple(lines[area.name])) for area in AREAS if lines[area.name]
    )


def _long_date(day: date) -> str:
    return f"{day.day} {day.strftime('%B')} {day.year}"


# --- rendering ---------------------------------------------------------------------------------


def render(report: ProgressReport, fmt: str) -> str:
    """The report as Markdown, HTML, CSV or JSON text."""
    renderers = {"md": render_markdown, "html": render_html, "csv": render_csv, "json": render_json}
    renderer = renderers.get(fmt)
    if renderer is None:
        raise ValueError(f"unknown report format {fmt!r}; choose one of {', '.join(FORMATS)}")
    return renderer(report)


def render_json(report: ProgressReport) -> str:
    return json.dumps(report.to_json(), ensure_ascii=False, indent=2)


CSV_COLUMNS: tuple[str, ...] = (
    "area",
    "lap_action",
    "indicator",
    "value",
    "basis",
    "states",
    "source",
    "figure",
    "out_of",
    "published_value",
    "note",
    "period",
    "data_recorded_up_to",
)


def render_csv(report: ProgressReport) -> str:
    """One row per figure (UTF-8, header row, ISO dates); names "; "-separated."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    period = f"{report.period_start.isoformat()}..{report.period_end.isoformat()}"
    recorded = report.knowledge_text.removeprefix("data as recorded up to ")
    for f in report.figures():
        writer.writerow(
            (
                f.area,
                f.lap_action or "",
                f.indicator,
                "" if f.value is None else f.value,
                f.basis,
                "; ".join(f.states),
                f.source or "",
                f.key,
                "" if f.out_of is None else f.out_of,
                "" if f.published_value is None else f.published_value,
                f.note or "",
                period,
                recorded,
            )
        )
    return buffer.getvalue()


def _md(text: str) -> str:
    """A Markdown table cell: pipes escaped, line breaks flattened."""
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def render_markdown(report: ProgressReport) -> str:
    out: list[str] = [f"# {report.title}", ""]
    out.append(f"**Period:** {report.period_text} (figures as of {report.period_end.isoformat()})")
    out.append("")
    out.append(f"**Knowledge time:** {report.knowledge_text}")
    out.append("")
    out.extend(f"- {note}" for note in report.notes)
    out += ["", "## Report summary", ""]
    for item in report.summary:
        out += [f"### {item.area}", ""]
        out.extend(f"- {line}" for line in item.lines)
        out.append("")
    out += ["## Monitoring progress in implementing the Lausanne Action Plan", ""]
    for area in report.areas:
        heading = f"{area.letter}. {area.name}" if area.letter else area.name
        out += [f"### {heading}", ""]
        out.append(
            "| LAP Action No. | Indicator results in numbers | Result | Basis | States / source |"
        )
        out.append("|---|---|---:|---|---|")
        for f in area.rows:
            behind = "; ".join(f.states) if f.basis == "computed" else (f.source or "")
            if f.basis == "computed" and f.note:
                behind = f"{behind} — {f.note}" if behind else f.note
            out.append(
                "| "
                + " | ".join(
                    _md(x)
                    for x in (
                        f.lap_action or "—",
                        f.indicator,
                        f.shown_value,
                        f.basis_label,
                        behind,
                    )
                )
                + " |"
            )
        out.append("")
    out += ["## Figures computed from State-level events", ""]
    out.append("| Area | Figure | Value | Published | States |")
    out.append("|---|---|---:|---:|---|")
    for f in report.computed:
        published = "" if f.published_source is None else str(f.published_value or "XX")
        out.append(
            "| "
            + " | ".join(
                _md(x) for x in (f.area, f.indicator, f.shown_value, published, "; ".join(f.states))
            )
            + " |"
        )
    out += ["", "## Sources", ""]
    out.extend(f"{n}. {source}" for n, source in enumerate(report.sources, start=1))
    out.append("")
    return "\n".join(out)


_CSS = """
:root { --ink: #1b1f23; --muted: #586069; --line: #d0d7de; --computed: #0a6640;
  --published: #7a4b00; --missing: #8b1a1a; --bg-head: #f3f5f7; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--ink); font: 15px/1.45 system-ui, -apple-system, "Segoe UI",
  Roboto, "Helvetica Neue", Arial, sans-serif; background: #fff; }
main { max-width: 64rem; margin: 0 auto; padding: 1.5rem 1rem 3rem; }
h1 { font-size: 1.6rem; margin: 0 0 .25rem; }
h2 { font-size: 1.25rem; margin: 2rem 0 .5rem; border-bottom: 2px solid var(--line);
  padding-bottom: .2rem; }
h3 { font-size: 1.05rem; margin: 1.2rem 0 .3rem; }
.meta { color: var(--muted); margin: .1rem 0; }
nav ol { columns: 2; padding-left: 1.2rem; }
table { width: 100%; border-collapse: collapse; margin: .5rem 0 1rem; font-size: .92rem; }
th, td { border: 1px solid var(--line); padding: .35rem .5rem; vertical-align: top;
  text-align: left; }
thead th { background: var(--bg-head); }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap;
  font-weight: 600; }
td.lap { white-space: nowrap; }
.badge { display: inline-block; font-size: .75rem; padding: 0 .4rem; border-radius: .6rem;
  border: 1px solid currentColor; white-space: nowrap; }
.computed { color: var(--computed); }
.published { color: var(--published); }
.missing { color: var(--missing); }
.src, .note { display: block; color: var(--muted); font-size: .8rem; margin-top: .2rem; }
details { margin-top: .25rem; }
summary { cursor: pointer; color: #0550ae; }
details ul { margin: .3rem 0 0; padding-left: 1.1rem; columns: 2; }
footer { margin-top: 2rem; color: var(--muted); font-size: .85rem; }
@media (max-width: 640px) {
  body { font-size: 14px; }
  nav ol, details ul { columns: 1; }
  th, td { padding: .25rem .3rem; }
}
@media print {
  body { font-size: 10pt; }
  main { max-width: none; padding: 0; }
  nav { display: none; }
  h2 { break-after: avoid; }
  tr, li { break-inside: avoid; }
  thead { display: table-header-group; }
  summary { display: none; }
  details ul { columns: 3; }
  .badge { border: none; padding: 0; }
  a { color: inherit; text-decoration: none; }
}
"""

#: Closed <details> do not print; open them for printing and restore them afterwards.
_PRINT_SCRIPT = """
(function () {
  var opened = [];
  window.addEventListener("beforeprint", function () {
    document.querySelectorAll("details:not([open])").forEach(function (d) {
      d.open = true; opened.push(d);
    });
  });
  window.addEventListener("afterprint", function () {
    opened.forEach(function (d) { d.open = false; }); opened = [];
  });
})();
"""


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _names_html(f: Figure) -> str:
    if f.basis != "computed" or not f.states:
        return ""
    items = "".join(f"<li>{_e(name)}</li>" for name in f.states)
    label = _plural(len(f.states), "State", "States")
    return f"<details><summary>{_e(label)} behind this figure</summary><ul>{items}</ul></details>"


def _basis_html(f: Figure) -> str:
    css = {"computed": "computed", "published": "published"}.get(f.basis, "missing")
    label = {"computed": "computed", "published": PUBLISHED_LABEL}.get(f.basis, NOT_RECORDED)
    parts = [f'<span class="badge {css}">{_e(label)}</span>']
    if f.source:
        parts.append(f'<span class="src">{_e(f.source)}</span>')
    return "".join(parts)


def _row_html(f: Figure, lap: bool) -> str:
    note = ""
    if f.note and f.basis == "computed":
        note = f'<span class="note">{_e(f.note)}</span>'
    cells = []
    if lap:
        cells.append(f'<td class="lap">{_e(f.lap_action or "—")}</td>')
    else:
        cells.append(f"<td>{_e(f.area)}</td>")
    cells.append(f"<td>{_e(f.indicator)}{note}{_names_html(f)}</td>")
    cells.append(f'<td class="num">{_e(f.shown_value)}</td>')
    if not lap:
        published = "" if f.published_source is None else _e(f.published_value or "XX")
        cells.append(f'<td class="num">{published}</td>')
    cells.append(f"<td>{_basis_html(f)}</td>")
    attributes = (
        f' data-figure="{_e(f.key)}" data-basis="{_e(f.basis)}"'
        f' data-value="{_e("" if f.value is None else f.value)}"'
    )
    return f"<tr{attributes}>{''.join(cells)}</tr>"


def render_html(report: ProgressReport) -> str:
    """One self-contained page: inline CSS (screen, phone and print), no external resources."""
    parts: list[str] = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(report.title)}: {_e(report.period_text)}</title>",
        f"<style>{_CSS}</style>",
        "</head>",
        "<body><main>",
        "<header>",
        f"<h1>{_e(report.title)}</h1>",
        f'<p class="meta" id="period">Period: {_e(report.period_text)} '
        f"(figures as of {_e(report.period_end.isoformat())})</p>",
        f'<p class="meta" id="knowledge">{_e(report.knowledge_text.capitalize())}</p>',
        "</header>",
        "<nav><ol>",
        '<li><a href="#summary">Report summary</a></li>',
    ]
    for area in report.areas:
        anchor = _anchor(area)
        heading = f"{area.letter}. {area.name}" if area.letter else area.name
        parts.append(f'<li><a href="#{anchor}">{_e(heading)}</a></li>')
    parts += [
        '<li><a href="#computed">Figures computed from State-level events</a></li>',
        '<li><a href="#sources">Sources</a></li>',
        "</ol></nav>",
        "<section>",
        "<ul>" + "".join(f"<li>{_e(n)}</li>" for n in report.notes) + "</ul>",
        "</section>",
        '<section id="summary"><h2>Report summary</h2>',
    ]
    for item in report.summary:
        parts.append(f"<h3>{_e(item.area)}</h3><ul>")
        parts.extend(f"<li>{_e(line)}</li>" for line in item.lines)
        parts.append("</ul>")
    parts.append("</section>")
    for area in report.areas:
        heading = f"{area.letter}. {area.name}" if area.letter else area.name
        parts.append(f'<section id="{_anchor(area)}"><h2>{_e(heading)}</h2>')
        parts.append(
            "<table><thead><tr><th>LAP Action No.</th><th>Indicator results in numbers</th>"
            "<th>Result</th><th>Basis and source</th></tr></thead><tbody>"
        )
        parts.extend(_row_html(f, lap=True) for f in area.rows)
        parts.append("</tbody></table></section>")
    parts.append('<section id="computed"><h2>Figures computed from State-level events</h2>')
    parts.append(
        "<table><thead><tr><th>Area</th><th>Figure</th><th>Value</th><th>Published</th>"
        "<th>Basis and source</th></tr></thead><tbody>"
    )
    parts.extend(_row_html(f, lap=False) for f in report.computed)
    parts.append("</tbody></table></section>")
    parts.append('<section id="sources"><h2>Sources</h2><ol>')
    parts.extend(f"<li>{_e(source)}</li>" for source in report.sources)
    parts.append("</ol></section>")
    parts.append(
        f"<footer>Drafted by treaty-tracker from recorded events for {_e(report.period_text)}; "
        f"{_e(report.knowledge_text)}. Not an official document.</footer>"
    )
    parts.append(f"</main><script>{_PRINT_SCRIPT}</script></body></html>")
    return "\n".join(parts) + "\n"


def _anchor(area: AreaSection) -> str:
    return "area-" + (area.letter.lower() or "other")
