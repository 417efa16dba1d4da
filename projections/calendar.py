"""Treaty date rules as pure functions of dates and a convention profile (CCM by default).

Entry into force (CCM Art. 17), report due dates (Art. 7), destruction and clearance deadlines
(Arts. 3 and 4), the nine-month filing cut-off for extension requests (Arts. 3(5), 4(6)),
withdrawal (Art. 20) and the contribution pay-by date (Lausanne Action Plan, Action 9).
Calendar-month arithmetic clamps to the end of a shorter month (31 Aug + 6 months = 28 Feb).
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache
from typing import Literal

from dateutil.relativedelta import relativedelta

from events.dates import DateRange
from projections.profile import CCM, ConventionProfile

Timeliness = Literal["on_time", "on_cutoff_day", "late", "unknown"]


@lru_cache(maxsize=4096)  # pure and hot: every membership view recomputes it per State
def entry_into_force(deposit: date, profile: ConventionProfile = CCM) -> date:
    """The day the convention binds a State that deposited its instrument on `deposit`."""
    if deposit <= profile.threshold_deposit_date:
        return profile.convention_entry_into_force
    # The day of the month does not matter: 1 March and 31 March both give 1 September.
    return deposit.replace(day=1) + relativedelta(months=profile.eif_month_offset)


def initial_report_due(eif: date, profile: ConventionProfile = CCM) -> date:
    return eif + timedelta(days=profile.initial_report_days)


def annual_report_due(year_covered: int, profile: ConventionProfile = CCM) -> date:
    """Due date of the annual report covering calendar year `year_covered`."""
    due = profile.annual_report_due
    return date(year_covered + 1, due.month, due.day)


def art3_deadline(eif: date, profile: ConventionProfile = CCM) -> date:
    """Stockpile destruction deadline before any extension."""
    return eif + relativedelta(years=profile.art3_years)


def art4_deadline(eif: date, profile: ConventionProfile = CCM) -> date:
    """Clearance deadline for remnants present at entry into force, before any extension."""
    return eif + relativedelta(years=profile.art4_years)


def art4_later_deadline(hostilities_ended_on: date, profile: ConventionProfile = CCM) -> date:
    """Clearance deadline for remnants that arose after entry into force (Art. 4(1)(b))."""
    return hostilities_ended_on + relativedelta(years=profile.art4_years)


def extension_filing_cutoff(meeting_start: date, profile: ConventionProfile = CCM) -> date:
    """Last day an extension request can be submitted for the meeting opening on `meeting_start`.

    The treaty says "a minimum of nine months prior"; the cut-off day itself is treated as on
    time (and flagged by `filing_timeliness`).
    """
    return meeting_start - relativedelta(months=profile.extension_filing_months)


def filing_timeliness(submitted: DateRange, cutoff: date) -> Timeliness:
    """Whether a request submitted within `submitted` met the filing `cutoff`.

    "on_cutoff_day" when it may have been submitted on the cut-off day itself (on time by this
    tracker's reading of "a minimum of nine months", but worth saying); "unknown" when the
    recorded range runs past the cut-off from before it.
    """
    if submitted.not_before > cutoff:
        return "late"
    if submitted.not_after < cutoff:
        return "on_time"
    if submitted.not_after == cutoff:
        return "on_cutoff_day"
    return "unknown"


def withdrawal_effective(receipt: date, profile: ConventionProfile = CCM) -> date:
    """The day a withdrawal received by the Depositary on `receipt` takes effect.

    Art. 20(3) defers it while the State is engaged in an armed conflict; that later date is
    recorded on the withdrawal event, not computed here.
    """
    return receipt + relativedelta(months=profile.withdrawal_months)


def contribution_pay_by(meeting_start: date, profile: ConventionProfile = CCM) -> date:
    """Last day to pay assessed contributions "no later than three months before" a meeting."""
    return meeting_start - relativedelta(months=profile.contribution_pay_by_months)
