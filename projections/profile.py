"""The numbers that make a convention: one frozen profile per treaty, read by every date rule.

Adding another convention (say the Mine Ban Convention) means writing another profile, not
another rule engine.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class MonthDay:
    """A day of the year without the year, such as 30 April."""

    month: int
    day: int


@dataclass(frozen=True)
class ConventionProfile:
    """Every treaty number the rules need, named after the article that sets it."""

    key: str
    name: str
    #: Entry into force of the convention itself (Art. 17(1) for the CCM).
    convention_entry_into_force: date
    #: Deposit date of the instrument that triggered entry into force (the 30th for the CCM);
    #: States that deposited on or before it are bound from `convention_entry_into_force`.
    threshold_deposit_date: date
    #: Later States are bound from the first day of the deposit month plus this many months.
    eif_month_offset: int
    initial_report_days: int
    #: Annual reports cover the previous calendar year and are due on this day.
    annual_report_due: MonthDay
    art3_years: int
    art3_extension_max_years: int
    art4_years: int
    art4_extension_max_years: int
    #: Extension requests are due this many calendar months before the meeting.
    extension_filing_months: int
    withdrawal_months: int
    contribution_pay_by_months: int
    #: Usual interval between meetings of States Parties; used only to look ahead when the
    #: following meeting is not scheduled yet.
    meeting_cycle_months: int = 12


CCM = ConventionProfile(
    key="ccm",
    name="Convention on Cluster Munitions",
    convention_entry_into_force=date(2010, 8, 1),
    threshold_deposit_date=date(2010, 2, 16),
    eif_month_offset=6,
    initial_report_days=180,
    annual_report_due=MonthDay(month=4, day=30),
    art3_years=8,
    art3_extension_max_years=4,
    art4_years=10,
    art4_extension_max_years=5,
    extension_filing_months=9,
    withdrawal_months=6,
    contribution_pay_by_months=3,
)
