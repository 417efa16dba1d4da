"""Generate the bundled CCM dataset (tracker/data/ccm/*.jsonl) from its sources.

Inputs: the membership and meeting tables in tracker/data/ccm/sources/ (copied from the project's
research notes) and the hand-written tables below, which transcribe the 12MSP Progress Report
(CCM/MSP/2024/7) paragraph by paragraph, with State names spelled as the report spells them.
Names go through tracker.aliases, so a misspelling in the report is caught here and printed,
not silently stored. The committed JSONL files are what the tracker loads; this script only
makes them reviewable and reproducible:

    .venv/bin/python tools/build_dataset.py            # rewrite the JSONL files
    .venv/bin/python tools/build_dataset.py --check    # fail if they are out of date

Knowledge times (recorded_at) and every approximation are explained in tracker/data/ccm/README.md.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from events.dates import DateRange  # noqa: E402
from events.schema import (  # noqa: E402
    AggregatePublished,
    AnnualReportSubmitted,
    ComplianceDeclared,
    ConsentDeposited,
    CoverageDeclared,
    Event,
    ExtensionDecided,
    ExtensionRequested,
    InitialReportSubmitted,
    MeetingScheduled,
    ObligationDeclared,
    Payload,
    StateFact,
    StateFactReported,
    StateSigned,
    WithdrawalNotified,
    deterministic_id,
    new_event,
)
from projections.calendar import entry_into_force  # noqa: E402
from tracker.aliases import resolve  # noqa: E402

DATA = ROOT / "tracker" / "data" / "ccm"
SOURCES = DATA / "sources"
RECORDED_BY = "dataset:ccm"
REPORT = "CCM/MSP/2024/7"
REPORT_KNOWN = datetime(2024, 9, 18, tzinfo=UTC)
PERIOD_START, PERIOD_END = date(2023, 7, 1), date(2024, 6, 30)
PERIOD = DateRange(PERIOD_START, PERIOD_END)
BEFORE_PERIOD = PERIOD_START - timedelta(days=1)
#: The Oslo signing conference, 3-4 December 2008: where the CSV says the day was assumed.
OSLO = DateRange(date(2008, 12, 3), date(2008, 12, 4))

WARNINGS: list[str] = []


def para(*numbers: int, note: str | None = None) -> str:
    """Cite report paragraphs as "CCM/MSP/2024/7 para 43, para 44 (note)"."""
    cited = f"{REPORT} " + ", ".join(f"para {n}" for n in numbers)
    return f"{cited} ({note})" if note else cited


def at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def iso3(name: str, where: str) -> str:
    """A State name as a source spells it, read through the alias table (warnings kept)."""
    found = resolve(name)
    if found.warning:
        WARNINGS.append(f"{where}: {found.warning}")
    return found.iso3


def names(text: str, where: str) -> list[str]:
    """ISO3 codes for a comma-separated list of names copied from the report."""
    parts = [p.strip().removeprefix("and ").strip() for p in text.split(",")]
    codes = [iso3(p, where) for p in parts if p]
    if len(set(codes)) != len(codes):
        raise SystemExit(f"{where}: a State is listed twice: {text}")
    return codes


@dataclass(frozen=True)
class Member:
    iso3: str
    name: str
    signed: str
    instrument: str
    deposit: date | None
    withdrawal_notice: date | None
    source: str

    @property
    def eif(self) -> date:
        assert self.deposit is not None
        return entry_into_force(self.deposit)


def read_members() -> dict[str, Member]:
    with (SOURCES / "ccm-states.csv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    members = {}
    for row in rows:
        members[row["iso3"]] = Member(
            iso3=row["iso3"],
            name=row["state_name"],
            signed=row["signature_date"],
            instrument=row["instrument"],
            deposit=date.fromisoformat(row["deposit_date"]) if row["deposit_date"] else None,
            withdrawal_notice=(
                date.fromisoformat(row["withdrawal_notice_date"])
                if row["withdrawal_notice_date"]
                else None
            ),
            source=" ".join(row["source"].split()),
        )
    return members


def event(
    payload: Payload,
    occurred_on: DateRange | date,
    recorded_at: datetime,
    source: str,
    *key: object,
) -> Event:
    """A dataset event whose id depends only on `key` (the fact's identity, not its wording)."""
    return new_event(
        payload,
        occurred_on=occurred_on,
        recorded_at=recorded_at,
        recorded_by=RECORDED_BY,
        source=source,
        event_id=deterministic_id("dataset:ccm", payload.TYPE, *key),
    )


# --- membership ---------------------------------------------------------------------------------


def membership(members: dict[str, Member]) -> list[Event]:
    out = []
    for m in members.values():
        if m.signed:
            # The CSV marks signature days it assumed; the source only supports "at Oslo".
            signed = (
                OSLO if "assumed" in m.source else DateRange.exact(date.fromisoformat(m.signed))
            )
            out.append(
                event(StateSigned(state=m.iso3), signed, at(signed.not_after), m.source, m.iso3)
            )
        if m.deposit:
            out.append(
                event(
                    ConsentDeposited(state=m.iso3, instrument=m.instrument),  # type: ignore[arg-type]
                    m.deposit,
                    at(m.deposit),
                    m.source,
                    m.iso3,
                )
            )
        if m.withdrawal_notice:
            # The receipt date is derived from the effective date (Art. 20(3)), which was first
            # published by the 13MSP Presidency statement the CSV cites (10 March 2025).
            out.append(
                event(
                    WithdrawalNotified(state=m.iso3),
                    m.withdrawal_notice,
                    at(date(2025, 3, 10)),
                    m.source,
                    m.iso3,
                )
            )
    return out


# --- meetings -----------------------------------------------------------------------------------

MEETING_SOURCES = {
    "1MSP": "Cluster Munition Monitor Lao PDR 2010; CMC news; dfa.ie (ccm-rules.md §7)",
    "2MSP": "CMC news 2011; lebmac.org (ccm-rules.md §7)",
    "3MSP": "Final document CCM/MSP/2012/5; ISU meetings list; mineaction.org (ccm-rules.md §7)",
    "4MSP": "ISU meetings list; mineaction.org; CMC news (ccm-rules.md §7)",
    "5MSP": "ISU meetings list; gichd.org; meetings.unoda.org 1RC page (ccm-rules.md §7)",
    "1RC": "meetings.unoda.org/meeting/ccm-revcon-2015/; hrw.org (ccm-rules.md §7)",
    "6MSP": "meetings.unoda.org 6MSP page (ccm-rules.md §7)",
    "7MSP": "ISU meetings list; mineaction.org (ccm-rules.md §7)",
    "8MSP": "ISU meetings list; ccm3.pronk.se 8MSP page (ccm-rules.md §7)",
    "9MSP": "ISU meetings list; wvcbl.org; genevapm.dfa.gov.ph (ccm-rules.md §7)",
    "2RC-1": "ISU 2RC page; humanitariandisarmament.org 2020-12-09 (ccm-rules.md §7)",
    "2RC-2": "ISU 2RC page; gichd.org 2021-09-16 and 2021-09-23; fdfa.admin.ch 2021-09-22 "
    "(ccm-rules.md §7)",
    "10MSP": "ISU meetings list; geneve-int.ch; Monitor UK 2022 (ccm-rules.md §7)",
    "11MSP": "meetings.unoda.org/meeting/68085; ISU 11MSP page (ccm-rules.md §7)",
    "12MSP": "meetings.unoda.org/meeting/72122; clusterconvention.org/12msp/; "
    "CCM/MSP/2024/7 header (ccm-rules.md §7)",
    "13MSP": "clusterconvention.org/13msp; dfa.gov.ph (ccm-rules.md §7)",
}
#: The 30th instrument (16 Feb 2010) fixed the Convention's entry into force and so the window
#: (Art. 11(2)) in which the first meeting had to be set.
FIRST_MEETING_SET_FROM = date(2010, 2, 16)


def meetings() -> list[Event]:
    with (SOURCES / "ccm-meetings.csv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    out = []
    previous_end = FIRST_MEETING_SET_FROM
    for row in rows:
        start, end = date.fromisoformat(row["start_date"]), date.fromisoformat(row["end_date"])
        payload = MeetingScheduled(
            meeting=row["meeting"],
            name=row["name"],
            start_date=start,
            end_date=end,
            place=row["place"] or None,
            presidency=row["presidency"] or None,
        )
        # When each meeting was set is not recorded: after the previous meeting closed, before
        # it opened. Known, at the latest, on its opening day.
        scheduled = DateRange(previous_end, start - timedelta(days=1))
        out.append(
            event(payload, scheduled, at(start), MEETING_SOURCES[row["meeting"]], row["meeting"])
        )
        previous_end = end
    return out


# --- the 12MSP Progress Report ------------------------------------------------------------------

# Paragraph 100: 2023 annual reports received by the due date of 30 April 2024.
ON_TIME_2023 = (
    "Australia, Belgium, Bosnia and Herzegovina, Botswana, Bulgaria, Canada, Chile, Colombia, "
    "Croatia, Czech Republic, Cuba, Germany, Holy See, Hungary, Iraq, Ireland, Japan, Lao PDR, "
    "Lebanon, Liechtenstein, Lithuania, Luxembourg, Mauritania, Mauritius, Moldova, Monaco, "
    "Netherlands, New Zealand, Nicaragua, Niger, Saint Kitts and Nevis, San Marino, Senegal, "
    "Slovenia, South Africa, Spain, Sweden, Switzerland, and United Kingdom"
)
# Paragraph 101: received after 30 April 2024 (and by 30 June 2024, para 98).
LATE_2023 = (
    "Afghanistan, Albania, Chad, Denmark, France, Italy, Mexico, Montenegro, Peru, Portugal, "
    "Slovakia, and State of Pelestine"
)
# Paragraph 102: the revised reporting form (adopted at 11MSP), for an annual or initial report.
REVISED_FORM = (
    "Belgium, Bosnia and Herzegovina, Botswana, Chile, Colombia, Croatia, Cuba, Hungary, Iraq, "
    "Ireland, Italy, Japan, Lebanon, Liechtenstein, Luxembourg, Moldova, Monaco, Netherlands, "
    "New Zealand, Senegal, South Sudan, Slovakai, Sweden, and the United Kingdom"
)
# Paragraph 103: overdue 2022 and earlier annual reports submitted during the period.
OVERDUE_EARLIER = (
    "Albania, Antigua and Barbuda, Austria, Costa Rica, Denmark, Gambia, Guyana, Holy See, "
    "Lesotho, Malawi, Mauritania, Senegal, Somalia, Sri Lanka, State of Palestine, and Tunisia"
)
MULTI_YEAR = "Antigua and Barbuda, Costa Rica, Lesotho, Senegal, and Sri Lanka"
# Paragraph 105: initial reports still owed, with the year each fell due.
OVERDUE_INITIAL = {
    "Cabo Verde": 2011,
    "Comoros": 2011,
    "Togo": 2013,
    "Congo": 2015,
    "Guinea": 2015,
    "Rwanda": 2016,
    "Madagascar": 2018,
}
FORM_J = (
    "Belgium, Bosnia and Herzegovina, Chile, Croatia, Japan, Lebanon, New Zealand, South Sudan, "
    "and the United Kingdom"
)
GENDER_OTHER_FORMS = "Afghanistan, Albania, Iraq, Lao PDR, and Mauritania"
VICTIMS = (
    "Afghanistan, Albania, Bosnia and Herzegovina, Chad, Croatia, Iraq, Lao PDR, Lebanon, "
    "Mauritania, Montenegro, Somalia, and South Sudan"
)
PROVIDED = (
    "Austria, Australia, Belgium, Canada, Croatia, Czech Republic, Denmark, France, Germany, "
    "Ireland, Italy, Japan, Liechtenstein, Lithuania, Luxembourg, Monaco, Netherlands, "
    "New Zealand, Slovakia, Spain, Sweden, Switzerland, and United Kingdom"
)
PROVIDED_ART3 = "Australia, Ireland, and Italy"
PROVIDED_ART4 = (
    "Australia, Austria, Belgium, Canada, Czech Republic, Denmark, France, Germany, Ireland, "
    "Italy, Japan, Liechtenstein, Luxembourg, Monaco, Netherlands, New Zealand, Spain, Sweden, "
    "Switzerland, and United Kingdom"
)
PROVIDED_ART5 = (
    "Andorra, Australia, Belgium, Germany, Ireland, Italy, Japan, Liechtenstein, Monaco, "
    "Netherland, Sweden, and Switzerland"
)
RECEIVED = (
    "Afghanistan, Albania, Bosnia and Herzegovina, Bulgaria, Chad, Croatia, Iraq, Lao PDR, "
    "Lebanon, Peru, Slovakia, Somalia, and South Sudan"  # the report has no comma before "and"
)
RECEIVED_ART3 = "Bulgaria, Peru, and Slovakia"  # para 89
RECEIVED_ART4 = "Afghanistan, Iraq, Lao PDR, Lebanon, South Sudan, Bosnia and Herzegovina"  # 90, 91
RECEIVED_ART5 = "Afghanistan, Chad, Iraq, Lao PDR, Lebanon, Somalia, South Sudan, Croatia"  # 93, 94
DISSEMINATED_IN_PERIOD = (
    "Australia, Bosnia and Herzegovina, Canada, Chile, Croatia, Cuba, France, Iraq, Lao PDR, "
    "Peru, Spain, and Switzerland"
)
DISSEMINATED_BEFORE = (
    "Belgium, Bolivia, Cameroon, Colombia, Denmark, Dominican Republic, Ireland, "
    "Republic of Moldova, Norway, and Sweden"
)
# Paragraph 47 names ten retaining States "with the exception of Cameroon"; para 48 counts 11.
RETAINING = (
    "Belgium, Bosnia and Herzegovina, Bulgaria, Denmark, France, Germany, "
    "the Kingdom of the Netherlands, Spain, Sweden, Switzerland, and Cameroon"
)
ART4_CURRENT = (
    "Afghanistan, Chad, Chile, Germany, Iraq, Lao PDR, Lebanon, Mauritania, Somalia, "
    "and South Sudan"
)
# Paragraph 53: eight declared completion; Albania and Zambia "before entry into force".
ART4_COMPLETED = (
    "Bosnia and Herzegovina, Croatia, Grenada, Montenegro, Mozambique, Norway, Albania, and Zambia"
)
ART3_COMPLIED = "Bulgaria, Peru, Slovakia, and South Africa"  # para 43
EXTENSIONS_12MSP = "Chad, Germany, and Lao PDR"  # para 58
# 12MSP opened 10 Sep 2024; nine months earlier is 10 Dec 2023, and para 123 says no request
# was submitted by then, so each came on 11 Dec 2023 or later; para 97 says within the period.
AFTER_12MSP_CUTOFF = DateRange(date(2023, 12, 11), PERIOD_END)


def state_fact(
    code: str, fact: StateFact, source: str, *, on: DateRange = PERIOD, detail: str | None = None
) -> Event:
    start = on.not_before if on == PERIOD else None
    payload = StateFactReported(
        state=code, fact=fact, period_start=start, period_end=on.not_after, detail=detail
    )
    return event(payload, on, REPORT_KNOWN, source, code, fact, REPORT)


def report_facts(members: dict[str, Member]) -> list[Event]:
    out: list[Event] = []
    revised = set(names(REVISED_FORM, "para 102"))
    on_time = names(ON_TIME_2023, "para 100")
    late = names(LATE_2023, "para 101")

    # Initial reports. Para 104: 105 of 112 by 30 June 2024; para 99: two of them (Nigeria,
    # South Sudan) in the period; para 105: the seven still owed. So the other 103 came before
    # 1 July 2023, on dates the report does not give: bounded by the deposit and 30 June 2023.
    owed = {iso3(n, "para 105"): year for n, year in OVERDUE_INITIAL.items()}
    for code, due_year in owed.items():
        due = members[code].eif + timedelta(days=180)
        if due.year != due_year:
            raise SystemExit(f"para 105: {code} due {due}, report says {due_year}")
    parties = [
        m for m in members.values() if m.deposit and m.deposit <= PERIOD_END and m.iso3 != "VUT"
    ]
    in_period = {
        "NGA": (PERIOD, para(99)),
        "SSD": (DateRange(date(2024, 1, 1), PERIOD_END), para(99, 55, note="'in 2024'")),
    }
    for m in parties:
        if m.iso3 in owed:
            continue
        form = "revised" if m.iso3 in revised else None
        if m.iso3 in in_period:
            on, source = in_period[m.iso3]
            if form:
                source += ", para 102 (revised form)"
        else:
            assert m.deposit is not None
            on = DateRange(m.deposit, BEFORE_PERIOD)
            source = para(
                104,
                note="105 of 112 initial reports by 30 June 2024, two of them in the period "
                "(para 99), so this one before 1 July 2023; its date is not given",
            )
        out.append(
            event(
                InitialReportSubmitted(state=m.iso3, form_version=form),
                on,
                REPORT_KNOWN,
                source,
                m.iso3,
            )
        )

    # Annual reports for calendar year 2023 (paras 98, 100, 101, 102).
    by_due = DateRange(date(2024, 1, 1), date(2024, 4, 30))
    after_due = DateRange(date(2024, 5, 1), PERIOD_END)
    for codes, on, number in ((on_time, by_due, 100), (late, after_due, 101)):
        for code in codes:
            source = para(number)
            day = on
            if code == "ZAF":
                # "submitted its annual report as a complementary report to its Article 3
                # voluntary declaration of compliance in September 2023": September 2023 is
                # either the report's date or the declaration's (after which the report came).
                day = DateRange(date(2023, 9, 1), date(2024, 4, 30))
                source = para(100, note="'in September 2023', see the dataset README")
            form = "revised" if code in revised else None
            if form:
                source += ", para 102 (revised form)"
            out.append(
                event(
                    AnnualReportSubmitted(state=code, year_covered=2023, form_version=form),
                    day,
                    REPORT_KNOWN,
                    source,
                    code,
                    2023,
                )
            )

    # Para 103: overdue "2022 and other previous years'" reports, recorded as the 2022 report.
    multi = set(names(MULTI_YEAR, "para 103"))
    for code in names(OVERDUE_EARLIER, "para 103"):
        note = "overdue 2022 and earlier reports; recorded as the 2022 report"
        if code in multi:
            note += "; a multi-year report"
        out.append(
            event(
                AnnualReportSubmitted(state=code, year_covered=2022),
                PERIOD,
                REPORT_KNOWN,
                para(103, note=note),
                code,
                2022,
            )
        )

    # Gender reporting (paras 19-20).
    out += [state_fact(c, "used_form_j", para(19)) for c in names(FORM_J, "para 19")]
    out += [
        state_fact(c, "gender_in_other_forms", para(20))
        for c in names(GENDER_OTHER_FORMS, "para 20")
    ]

    # Victims (para 71: "currently … considered to have cluster munition victims").
    out += [
        state_fact(c, "has_cluster_munition_victims", para(71)) for c in names(VICTIMS, "para 71")
    ]

    # Cooperation and assistance (paras 85, 88-91, 93-94), with the articles named.
    def articles(code: str, lists: Sequence[tuple[str, list[str]]]) -> str | None:
        named = [label for label, codes in lists if code in codes]
        return ("for " + ", ".join(named)) if named else None

    given = [
        ("Article 3", names(PROVIDED_ART3, "para 85")),
        ("Article 4", names(PROVIDED_ART4, "para 85")),
        ("Article 5", names(PROVIDED_ART5, "para 85")),
    ]
    out += [
        state_fact(c, "provided_assistance", para(85), detail=articles(c, given))
        for c in names(PROVIDED, "para 85")
    ]
    got = [
        ("Article 3", names(RECEIVED_ART3, "para 89")),
        ("Article 4", names(RECEIVED_ART4, "paras 90-91")),
        ("Article 5", names(RECEIVED_ART5, "paras 93-94")),
    ]
    out += [
        state_fact(c, "received_assistance", para(88), detail=articles(c, got))
        for c in names(RECEIVED, "para 88")
    ]

    # Dissemination of obligations (para 116): 12 in the period, 10 "previously".
    out += [
        state_fact(c, "disseminated_obligations", para(116))
        for c in names(DISSEMINATED_IN_PERIOD, "para 116")
    ]
    for code in names(DISSEMINATED_BEFORE, "para 116"):
        deposit = members[code].deposit
        assert deposit is not None
        out.append(
            state_fact(
                code,
                "disseminated_obligations",
                para(116, note="'previously reported', before the period"),
                on=DateRange(deposit, BEFORE_PERIOD),
            )
        )

    # Retention under Article 3.6 (paras 47-48).
    retained_detail = {
        "BEL": "destroyed all its retained cluster munitions and submunitions (para 48)",
        "CMR": "has not submitted its 2023 annual report (para 47)",
    }
    out += [
        state_fact(c, "retains_cluster_munitions", para(47, 48), detail=retained_detail.get(c))
        for c in names(RETAINING, "para 47")
    ]

    # Article 3: the four that declared compliance in the period (paras 43-44, 89, 100).
    for code in names(ART3_COMPLIED, "para 43"):
        out.append(
            event(
                ObligationDeclared(state=code, article=3),
                members[code].eif,
                REPORT_KNOWN,
                para(43, note="obligation from entry into force"),
                code,
                3,
                "main",
            )
        )
    art3_compliance = {
        "BGR": (DateRange(PERIOD_START, date(2023, 9, 14)), "11MSP", para(43, 44)),
        "SVK": (DateRange(PERIOD_START, date(2023, 9, 14)), "11MSP", para(43, 44)),
        "PER": (DateRange(date(2023, 9, 15), PERIOD_END), None, para(43, 44, 89)),
        "ZAF": (
            DateRange(date(2023, 9, 15), date(2023, 9, 30)),
            None,
            para(43, 44, 100, note="after 11MSP, in September 2023"),
        ),
    }
    for code, (on, meeting, source) in art3_compliance.items():
        out.append(
            event(
                ComplianceDeclared(state=code, article=3, meeting=meeting),
                on,
                REPORT_KNOWN,
                source,
                code,
                3,
                "main",
            )
        )

    # Article 4: 18 States with obligations (para 53), 10 current (para 54), 8 completed.
    completed = names(ART4_COMPLETED, "para 53")
    for code in names(ART4_CURRENT, "para 54") + completed:
        out.append(
            event(
                ObligationDeclared(state=code, article=4),
                members[code].eif,
                REPORT_KNOWN,
                para(53, 54, note="obligation from entry into force"),
                code,
                4,
                "main",
            )
        )
    for code in completed:
        if code == "BIH":
            on, source = DateRange.exact(date(2023, 8, 31)), para(54, 91)
        else:
            deposit = members[code].deposit
            assert deposit is not None
            on = DateRange(deposit, BEFORE_PERIOD)
            source = para(53, note="declared before the period; date not given")
        out.append(
            event(ComplianceDeclared(state=code, article=4), on, REPORT_KNOWN, source, code, 4)
        )

    # Article 4 extension requests for 12MSP (paras 58, 97, 123).
    for code in names(EXTENSIONS_12MSP, "para 58"):
        out.append(
            event(
                ExtensionRequested(state=code, article=4, meeting="12MSP"),
                AFTER_12MSP_CUTOFF,
                REPORT_KNOWN,
                para(58, 97, 123, note="after the nine-month cut-off, within the period"),
                code,
                4,
                "12MSP",
            )
        )
    return out


# --- extensions from other sources (ccm-rules.md §3-4) ------------------------------------------


def extensions(members: dict[str, Member]) -> list[Event]:
    out: list[Event] = []
    ninth = "ISU 9MSP page (clusterconvention.org, ccm-rules.md §4)"
    for code, day in (("DEU", date(2019, 1, 15)), ("LAO", date(2019, 2, 26))):
        out.append(
            event(
                ExtensionRequested(state=code, article=4, meeting="9MSP"),
                day,
                at(day),
                f"{ninth}: request dated {day:%d %B %Y}",
                code,
                4,
                "9MSP",
            )
        )
    out.append(
        event(
            ExtensionDecided(
                state="DEU",
                article=4,
                meeting="9MSP",
                outcome="granted",
                granted_deadline=date(2025, 8, 1),
            ),
            DateRange(date(2019, 9, 2), date(2019, 9, 4)),
            at(date(2024, 9, 10)),
            "Mine Action Review post, 10 Sep 2024: Germany asks 12MSP to extend its deadline "
            "'to 1 August 2030', five years, so the 9MSP extension ran to 1 August 2025 "
            "(ccm-rules.md §4)",
            "DEU",
            4,
            "9MSP",
        )
    )
    silence = "bhmac.org, February 2021: decided by silence procedure, 2RC part 2 postponed"
    bih_eif = members["BIH"].eif
    out.append(
        event(
            ExtensionRequested(
                state="BIH", article=4, meeting="2RC-2", requested_deadline=date(2022, 9, 1)
            ),
            # Before the decision (February 2021); the submission date is not given.
            DateRange(bih_eif, date(2021, 2, 28)),
            at(date(2021, 2, 28)),
            f"{silence} (ccm-rules.md §4); submission date not given",
            "BIH",
            4,
            "2RC-2",
        )
    )
    out.append(
        event(
            ExtensionDecided(
                state="BIH",
                article=4,
                meeting="2RC-2",
                outcome="granted",
                granted_deadline=date(2022, 9, 1),
            ),
            DateRange(date(2021, 2, 1), date(2021, 2, 28)),
            at(date(2021, 2, 28)),
            f"{silence} (ccm-rules.md §4)",
            "BIH",
            4,
            "2RC-2",
        )
    )
    peru = (
        "Cluster Munition Monitor Peru 2021: 'In March 2021, its stockpile destruction deadline "
        "was extended to April 2024'; Monitor Peru 2023: '1 April 2024 deadline'; silence "
        "procedure Feb-Mar 2021 (bhmac.org) (ccm-rules.md §3)"
    )
    out.append(
        event(
            ExtensionRequested(state="PER", article=3, meeting="2RC-2"),
            DateRange(members["PER"].eif, date(2021, 3, 31)),
            at(date(2021, 3, 31)),
            f"{peru}; submission date not given",
            "PER",
            3,
            "2RC-2",
        )
    )
    out.append(
        event(
            ExtensionDecided(
                state="PER",
                article=3,
                meeting="2RC-2",
                outcome="granted",
                granted_deadline=date(2024, 4, 1),
            ),
            DateRange(date(2021, 3, 1), date(2021, 3, 31)),
            at(date(2021, 3, 31)),
            peru,
            "PER",
            3,
            "2RC-2",
        )
    )
    # 13MSP (16-19 Sep 2025): documents CCM/MSP/2025/3-7. Not submitted in the 12MSP period
    # (para 97 counts only the three 12MSP requests); known once the documents were out.
    for code in ("AFG", "CHL", "LBN", "MRT", "SOM"):
        note = "; announced in CCM/MSP/2024/7 para 59" if code in ("LBN", "SOM") else ""
        out.append(
            event(
                ExtensionRequested(state=code, article=4, meeting="13MSP"),
                DateRange(date(2024, 7, 1), date(2025, 9, 15)),
                at(date(2025, 9, 16)),
                "CCM/MSP/2025/3-7, ISU 13MSP extension requests page (clusterconvention.org/"
                f"13msp-er/; ccm-rules.md §4); submission date not given{note}",
                code,
                4,
                "13MSP",
            )
        )
    return out


# --- published figures --------------------------------------------------------------------------

#: The report's published figures: every indicator of its LAP tables (which name no States) and
#: the totals its paragraphs state, transcribed in sources/msp12-figures.csv as
#: (figure id, LAP action, value, text as printed; value empty where the report prints "XX").
FIGURES_CSV = SOURCES / "msp12-figures.csv"
#: Figures stated as of another day than the end of the period ("as of 30 April").
FIGURE_AS_OF = {"lap.a43.reports_by_30_april": date(2024, 4, 30)}
#: Cumulative figures ("since the entry into force", "to date", "as of …"): no period start.
CUMULATIVE = ("lap.a43.", "lap.a47.", "para")
#: Paragraph-level totals, cited by their paragraph.
FIGURE_PARAGRAPHS = {
    "para31": 31,
    "para42": 42,
    "para53": 53,
    "para54": 54,
    "para98": 98,
    "para104": 104,
    "para121": 121,
}
#: The LAP tables sit before the paragraphs of their section; cite the section's first paragraph
#: so each figure can be found (the tables themselves are unnumbered).
LAP_SECTIONS = (
    (4, 4, 19, "B. Gender Mainstreaming"),  # first: its table sits inside section A's range
    (1, 9, 4, "A. Guiding Principles"),
    (10, 11, 31, "C. Universalization"),
    (12, 17, 42, "D. Stockpile Destruction and Retention"),
    (18, 30, 53, "E/F. Survey and Clearance, Risk Education"),
    (31, 37, 71, "G. Victim Assistance"),
    (38, 42, 85, "H. International Cooperation and Assistance"),
    (43, 46, 98, "I. Transparency Measures"),
    (47, 48, 108, "J. National Implementation Measures"),
    (49, 50, 122, "K. Compliance"),
)


def figure_source(figure: str, lap_action: str | None) -> str:
    if lap_action is None:
        prefix = figure.split(".", 1)[0]
        if prefix == "summary":
            return f"{REPORT} para 19, para 20 (summary, Gender Mainstreaming: 9 + 5)"
        return para(FIGURE_PARAGRAPHS[prefix])
    number = int(lap_action.split()[1])
    for low, high, first_para, section in LAP_SECTIONS:
        if low <= number <= high:
            return para(first_para, note=f"LAP table, {lap_action}, section {section}")
    raise SystemExit(f"no section for {lap_action}")


def figures() -> list[Event]:
    with FIGURES_CSV.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    out = []
    for row in rows:
        figure, lap_action, text = row["figure"], row["lap_action"] or None, row["text"]
        value = int(row["value"]) if row["value"] else None
        as_of = FIGURE_AS_OF.get(figure, PERIOD_END)
        payload = AggregatePublished(
            figure=figure,
            value=value,
            text=text,
            period_start=None if figure.startswith(CUMULATIVE) else PERIOD_START,
            period_end=as_of,
            lap_action=lap_action,
        )
        source = figure_source(figure, lap_action)
        out.append(event(payload, as_of, REPORT_KNOWN, source, figure, REPORT))
    return out


# --- coverage -----------------------------------------------------------------------------------


def coverage() -> list[Event]:
    rows = [
        (
            CoverageDeclared(
                subject="membership",
                period_start=date(2008, 12, 3),
                period_end=PERIOD_END,
                detail="every signature, deposit and withdrawal up to 30 June 2024: 124 States, "
                "112 States Parties and 12 Signatories",
            ),
            REPORT_KNOWN,
            para(31, 33),
        ),
        (
            CoverageDeclared(
                subject="membership",
                period_start=date(2024, 7, 1),
                period_end=date(2025, 9, 5),
                detail="Lithuania's withdrawal and Vanuatu's accession; UNTC status as at "
                "22 June 2025 shows 111 Parties and 107 Signatories",
            ),
            at(date(2025, 9, 5)),
            "UNTC MTDSG XXVI-6 status as at 22-06-2025; icblcmc.org news on Vanuatu's accession "
            "(5 Sep 2025); ccm-states.csv",
        ),
        (
            CoverageDeclared(
                subject="initial_reports",
                period_start=date(2010, 8, 1),
                period_end=PERIOD_END,
                detail="which States Parties had submitted an initial report by 30 June 2024 "
                "(105 of 112); dates before 1 July 2023 are bounds only",
            ),
            REPORT_KNOWN,
            para(99, 104, 105),
        ),
        (
            CoverageDeclared(
                subject="annual_reports",
                period_start=PERIOD_START,
                period_end=PERIOD_END,
                year_covered=2023,
                detail="2023 annual reports received by 30 June 2024: 39 by 30 April, 12 later",
            ),
            REPORT_KNOWN,
            para(98, 100, 101),
        ),
        (
            CoverageDeclared(
                subject="extensions",
                period_start=PERIOD_START,
                period_end=PERIOD_END,
                detail="Article 3 and 4 extension requests submitted in the period: the three "
                "for 12MSP",
            ),
            REPORT_KNOWN,
            para(58, 97, 123),
        ),
        (
            CoverageDeclared(
                subject="state_facts",
                period_start=PERIOD_START,
                period_end=PERIOD_END,
                detail="used_form_j, gender_in_other_forms, has_cluster_munition_victims, "
                "provided_assistance, received_assistance, disseminated_obligations (to date), "
                "retains_cluster_munitions",
            ),
            REPORT_KNOWN,
            para(19, 20, 47, 71, 85, 88, 116),
        ),
    ]
    return [
        event(
            payload,
            payload.period_end,
            known,
            source,
            payload.subject,
            payload.period_start,
            payload.period_end,
            payload.year_covered,
        )
        for payload, known, source in rows
    ]


# --- output -------------------------------------------------------------------------------------


def render(events: Iterable[Event]) -> str:
    lines = []
    for e in events:
        record = e.to_record()
        record.pop("version", None)
        record.pop("position", None)
        lines.append(json.dumps(record, ensure_ascii=False, separators=(",", ":")))
    return "\n".join(lines) + "\n"


def build() -> dict[str, list[Event]]:
    members = read_members()
    files = {
        "membership.jsonl": membership(members),
        "meetings.jsonl": meetings(),
        "extensions.jsonl": extensions(members),
        "msp12-report.jsonl": report_facts(members),
        "figures.jsonl": figures(),
        "coverage.jsonl": coverage(),
    }
    ids = [e.event_id for events in files.values() for e in events]
    if len(ids) != len(set(ids)):
        raise SystemExit("two dataset events share an id: make their keys distinct")
    return files


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if the files are stale")
    args = parser.parse_args(argv)
    stale = []
    for name, events in build().items():
        text = render(events)
        path = DATA / name
        if args.check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(name)
        else:
            path.write_text(text, encoding="utf-8")
        counts: dict[str, int] = {}
        for e in events:
            counts[e.type] = counts.get(e.type, 0) + 1
        print(f"{name}: {len(events)} events " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    for warning in dict.fromkeys(WARNINGS):
        print(f"spelling: {warning}")
    if stale:
        print(f"out of date: {', '.join(stale)}; run tools/build_dataset.py", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
