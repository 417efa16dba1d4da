"""`tracker audit` finds where the 12MSP report disagrees with itself and with computed figures."""

from __future__ import annotations

import io
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from tracker.audit import number_value, text_findings
from tracker.cli import main

PERIOD = (date(2023, 7, 1), date(2024, 6, 30))


@pytest.fixture
def audit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    monkeypatch.setenv("TRACKER_DATABASE_URL", f"sqlite:///{tmp_path / 'audit.db'}")
    assert main(["init"], out=io.StringIO()) == 0
    out = io.StringIO()
    assert main(["audit", "--json"], out=out) == 0
    result: dict[str, Any] = json.loads(out.getvalue())
    return result


def test_the_audit_reads_the_report_date_and_period_from_the_text(audit: dict[str, Any]) -> None:
    assert audit["document_date"] == "2024-09-18"
    assert audit["period"] == ["2023-07-01", "2024-06-30"]


def test_the_audit_lists_every_known_disagreement_of_the_12msp_report(
    audit: dict[str, Any],
) -> None:
    found = {(f["kind"], f["paragraph"].split(" (")[0]) for f in audit["findings"]}

    assert found == {
        ("date", "para 42"),  # "as of 31 December 2024" in a report dated 18 September 2024
        ("count", "para 53"),  # "Eight States Parties" with six names in the brackets
        ("spelling", "para 101"),  # "State of Pelestine"
        ("spelling", "para 102"),  # "Slovakai"
        ("figure", "CCM/MSP/2024/7 para 98"),  # Action 43: 41 published, 39 computed
        ("figure", "CCM/MSP/2024/7 para 42"),  # Action 17: 10 published, 11 named
        ("figure", "CCM/MSP/2024/7 para 85"),  # Action 40: 35 published, 34 named
    }


def test_a_count_that_matches_its_names_is_not_a_finding() -> None:
    text = "7. Two States Parties (Nigeria and South Sudan) submitted their initial reports."

    assert text_findings(text, date(2024, 9, 18), PERIOD) == []


def test_a_count_that_differs_from_its_names_is_a_finding() -> None:
    text = "8. Three States Parties (Chad, Germany) submitted extension requests."

    findings = text_findings(text, date(2024, 9, 18), PERIOD)

    assert [(f.kind, f.paragraph) for f in findings] == [("count", "para 8")]
    assert "names 2" in findings[0].message


def test_number_words_are_read_as_the_report_writes_them() -> None:
    assert [number_value(w) for w in ("Thirty-nine", "twelve", "24", "One", "many")] == [
        39,
        12,
        24,
        1,
        None,
    ]
