"""The bad-input catalogue: malformed input through every way in (importer CSV and JSONL via
`tracker import`, the CLI's other commands and settings, the recording rules every front end
goes through). Each case must be refused with a message that names the problem, and the store
must be unchanged afterwards: every row of every table and the position sequence, compared by
digest before and after.

Wrong types, impossible dates (2024-02-30), dates before 2008 or far in the future, unknown
and ambiguous States, a report for a year a State was not a party, duplicate events, a
compliance declaration with no obligation, an extension decision with no request, oversized
input, control characters, HTML/Markdown injection in names, SQL metacharacters.
"""

from __future__ import annotations

import io
import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import sqlalchemy as sa
from pydantic import ValidationError

from bot import formatting
from events.schema import (
    AnnualReportSubmitted,
    ComplianceDeclared,
    ConsentDeposited,
    EventRetracted,
    ExtensionDecided,
    ExtensionRequested,
    InitialReportSubmitted,
    ObligationDeclared,
    Payload,
    StateFactReported,
    StateSigned,
    WithdrawalNotified,
)
from events.sql import SqlEventStore, upgrade
from tracker import cli
from tracker.clock import FixedClock
from tracker.config import Role
from tracker.importer import load_bundled, run_import
from tracker.recording import Actor, PermissionDenied, Recorder
from tracker.service import TrackerService

from .botrig import RECORDER as RECORDER_ID
from .botrig import VIEWER as VIEWER_ID
from .botrig import FakeBotApi, RunningBot, exchange, running_bot
from .support import dump_digest

if TYPE_CHECKING:
    from tests.databases import TestDatabase

NOW = datetime(2025, 1, 15, 12, 0, tzinfo=UTC)
RECORDER = Actor("telegram:222 (ana)", Role.RECORDER)
VIEWER = Actor("telegram:333 (bo)", Role.VIEWER)
#: A refusal longer than this is not "clear", whatever it says (oversized input echoed whole).
LONGEST_MESSAGE = 1500

CSV_HEADER = "type,occurred_on,recorded_by,source,state,payload.year_covered"
GOOD_CSV_ROW = "report.annual.submitted,2025-01-10,alice,note verbale 2025/12,Togo,2023"
GOOD_JSON = (
    '{"type": "report.annual.submitted", "occurred_on": "2025-01-10", "recorded_by": "alice", '
    '"source": "note verbale", "payload": {"state": "TGO", "year_covered": 2023}}'
)


def csv_rows(*rows: str, header: str = CSV_HEADER) -> str:
    return "\n".join([header, *rows]) + "\n"


def jsonl(*lines: str) -> str:
    return "\n".join(lines) + "\n"


def annual(state: str = "TGO", year: Any = 2023, on: str = "2025-01-10", **extra: Any) -> str:
    """One JSONL line: an annual report, with envelope or payload fields overridden."""
    import json

    payload = {"state": state, "year_covered": year, **extra.pop("payload_extra", {})}
    record = {
        "type": "report.annual.submitted",
        "occurred_on": on,
        "recorded_by": "alice",
        "source": "note verbale",
        "payload": payload,
        **extra,
    }
    return json.dumps(record)


@dataclass(frozen=True)
class Case:
    """One malformed input, the way it comes in, and what the refusal must say."""

    id: str
    way_in: str  # "csv" | "jsonl" | "file" | "cli" | "record" | "bot"
    given: Any
    says: tuple[str, ...]
    env: dict[str, str] = field(default_factory=dict)


Recording = Callable[[], tuple[Actor, Payload, str]]

# fmt: off
CASES: list[Case] = [
    # --- importer, CSV -------------------------------------------------------------------------
    Case("csv: year is not a number", "csv",
         csv_rows(GOOD_CSV_ROW, "report.annual.submitted,2025-01-10,alice,x,Togo,twenty"),
         ("row 3", "payload.year_covered", "integer")),
    Case("csv: impossible date 2024-02-30", "csv",
         csv_rows("report.annual.submitted,2024-02-30,alice,x,Togo,2023"),
         ("row 2", "occurred_on", "2024-02-30", "not a real calendar date")),
    Case("csv: date before 2008", "csv",
         csv_rows("report.annual.submitted,2007-12-31,alice,x,Togo,2023"),
         ("row 2", "occurred_on", "2007-12-31", "outside")),
    Case("csv: date far in the future", "csv",
         csv_rows("report.annual.submitted,2150-01-01,alice,x,Togo,2023"),
         ("row 2", "occurred_on", "2150-01-01", "outside")),
    Case("csv: reversed date range", "csv",
         csv_rows("report.annual.submitted,2024-05-01..2024-04-01,alice,x,Togo,2023"),
         ("row 2", "occurred_on", "before it starts")),
    Case("csv: unknown State", "csv",
         csv_rows("report.annual.submitted,2025-01-10,alice,x,Narnia,2023"),
         ("row 2", "payload.state", "Narnia", "not a known State")),
    Case("csv: ambiguous State", "csv",
         csv_rows("report.annual.submitted,2025-01-10,alice,x,Korea,2023"),
         ("row 2", "payload.state", "Korea", "could mean several", "KOR", "PRK")),
    Case("csv: HTML in a State name", "csv",
         csv_rows("report.annual.submitted,2025-01-10,alice,x,<b>Laos</b>,2023"),
         ("row 2", "payload.state", "not a known State")),
    Case("csv: script tag as a State name", "csv",
         csv_rows("report.annual.submitted,2025-01-10,alice,x,<script>alert(1)</script>,2023"),
         ("row 2", "payload.state", "not a known State")),
    Case("csv: SQL in a State name", "csv",
         csv_rows("report.annual.submitted,2025-01-10,alice,x,\"Laos'; DROP TABLE events\",2023"),
         ("row 2", "payload.state", "not a known State")),
    Case("csv: misspelt event type", "csv",
         csv_rows("report.annual.submited,2025-01-10,alice,x,Togo,2023"),
         ("row 2", "unknown event type", "did you mean 'report.annual.submitted'")),
    Case("csv: year covered before the Convention", "csv",
         csv_rows("report.annual.submitted,2025-01-10,alice,x,Togo,2009"),
         ("row 2", "payload.year_covered", "2010")),
    Case("csv: negative year", "csv",
         csv_rows("report.annual.submitted,2025-01-10,alice,x,Togo,-2023"),
         ("row 2", "payload.year_covered")),
    Case("csv: control character in the source", "csv",
         csv_rows("report.annual.submitted,2025-01-10,alice,note\x07verbale,Togo,2023"),
         ("row 2", "source", "control characters")),
    Case("csv: escape sequence in recorded_by", "csv",
         csv_rows("report.annual.submitted,2025-01-10,\x1b[31malice,x,Togo,2023"),
         ("row 2", "recorded_by", "control characters")),
    Case("csv: oversized source (5000 characters)", "csv",
         csv_rows(f"report.annual.submitted,2025-01-10,alice,{'x' * 5000},Togo,2023"),
         ("row 2", "source", "at most 2000 characters")),
    Case("csv: missing required column", "csv",
         csv_rows("report.annual.submitted,2025-01-10,alice,Togo,2023",
                  header="type,occurred_on,recorded_by,state,payload.year_covered"),
         ("missing column", "source")),
    Case("csv: unknown column", "csv",
         csv_rows(GOOD_CSV_ROW + ",1", header=CSV_HEADER + ",colour"),
         ("unknown column", "colour")),
    Case("csv: column named twice", "csv",
         csv_rows(GOOD_CSV_ROW + ",x", header=CSV_HEADER + ",source"),
         ("column 'source' appears twice",)),
    Case("csv: more cells than columns", "csv",
         csv_rows("report.annual.submitted,2025-01-10,alice,note, verbale,Togo,2023"),
         ("row 2", "cells", "columns")),
    Case("csv: payload column is not JSON", "csv",
         csv_rows("report.annual.submitted,2025-01-10,alice,x,{state: TGO}",
                  header="type,occurred_on,recorded_by,source,payload"),
         ("row 2", "payload", "not valid JSON")),
    Case("csv: payload column is a list", "csv",
         csv_rows('report.annual.submitted,2025-01-10,alice,x,"[1, 2]"',
                  header="type,occurred_on,recorded_by,source,payload"),
         ("row 2", "payload", "must be a JSON object")),
    Case("csv: schema_version is not a number", "csv",
         csv_rows(GOOD_CSV_ROW + ",two", header=CSV_HEADER + ",schema_version"),
         ("row 2", "schema_version", "'two'", "not a whole number")),
    Case("csv: schema_version from a newer tracker", "csv",
         csv_rows(GOOD_CSV_ROW + ",9", header=CSV_HEADER + ",schema_version"),
         ("row 2", "schema_version", "newer than this code")),
    Case("csv: stream of another State", "csv",
         csv_rows(GOOD_CSV_ROW + ",ccm:state:LAO", header=CSV_HEADER + ",stream"),
         ("row 2", "stream", "ccm:state:LAO", "TGO")),
    Case("csv: impossible knowledge date", "csv",
         csv_rows(GOOD_CSV_ROW + ",2024-13-01", header=CSV_HEADER + ",recorded_at"),
         ("row 2", "recorded_at", "2024-13-01")),
    Case("csv: one bad row among good ones stores nothing", "csv",
         csv_rows(GOOD_CSV_ROW, "report.annual.submitted,2025-01-10,alice,x,Narnia,2023",
                  "report.annual.submitted,2025-01-11,alice,y,Lao PDR,2023"),
         ("row 3", "Narnia", "nothing stored")),
    Case("csv: later contamination without end of hostilities", "csv",
         csv_rows("obligation.declared,2024-01-10,alice,x,Lao PDR,4,later_contamination,later-1",
                  header="type,occurred_on,recorded_by,source,state,payload.article,"
                         "payload.basis,payload.obligation"),
         ("row 2", "hostilities_ended_on")),
    Case("csv: granted extension without a deadline", "csv",
         csv_rows("extension.decided,2024-09-13,alice,x,Lao PDR,4,12MSP,granted",
                  header="type,occurred_on,recorded_by,source,state,payload.article,"
                         "payload.meeting,payload.outcome"),
         ("row 2", "granted_deadline")),
    Case("csv: Markdown/HTML injection in a meeting id", "csv",
         csv_rows("meeting.scheduled,2024-09-10,alice,x,**12MSP**,12MSP,2024-09-10,2024-09-13",
                  header="type,occurred_on,recorded_by,source,payload.meeting,payload.name,"
                         "payload.start_date,payload.end_date"),
         ("row 2", "payload.meeting", "pattern")),
    Case("csv: empty file", "csv", "", ("the file is empty",)),
    Case("csv: only a header", "csv", CSV_HEADER + "\n", ("only a header",)),
    Case("csv: not UTF-8", "file", ("reports.csv", (CSV_HEADER + "\nreport.annual.submitted,"
         "2025-01-10,alice,x,C\xf4te d'Ivoire,2023\n").encode("latin-1")),
         ("not UTF-8", "save it as UTF-8")),
    Case("csv: a spreadsheet instead of CSV", "file", ("reports.xlsx", b"PK\x03\x04"),
         (".xlsx", "export it as CSV")),
    # --- importer, JSON Lines ------------------------------------------------------------------
    Case("jsonl: a line that is not JSON", "jsonl", jsonl(GOOD_JSON, "{'type': 'x'}"),
         ("line 2", "not valid JSON")),
    Case("jsonl: an array instead of an event", "jsonl", jsonl("[1, 2, 3]"),
         ("line 1", "expected a JSON object", "list")),
    Case("jsonl: payload is a string", "jsonl",
         jsonl('{"type": "state.signed", "occurred_on": "2009-01-01", "recorded_by": "a", '
               '"source": "x", "payload": "AFG"}'),
         ("line 1", "payload", "object")),
    Case("jsonl: event type missing", "jsonl",
         jsonl('{"occurred_on": "2025-01-10", "recorded_by": "a", "source": "x", '
               '"payload": {"state": "TGO"}}'),
         ("line 1", "type", "missing")),
    Case("jsonl: unknown payload field", "jsonl", jsonl(annual(payload_extra={"colour": "red"})),
         ("line 1", "payload.colour", "xtra")),
    Case("jsonl: year is text", "jsonl", jsonl(annual(year="2023a")),
         ("line 1", "payload.year_covered", "integer")),
    Case("jsonl: year is a float", "jsonl", jsonl(annual(year=2023.5)),
         ("line 1", "payload.year_covered")),
    Case("jsonl: impossible date 2023-02-29", "jsonl", jsonl(annual(on="2023-02-29")),
         ("line 1", "occurred_on", "2023-02-29", "not a real calendar date")),
    Case("jsonl: date before 2008", "jsonl", jsonl(annual(on="1999-05-01")),
         ("line 1", "occurred_on", "1999-05-01", "outside")),
    Case("jsonl: event id is not a UUID", "jsonl", jsonl(annual(event_id="42; DROP TABLE events")),
         ("line 1", "event_id", "UUID")),
    Case("jsonl: knowledge time without a time zone", "jsonl",
         jsonl(annual(recorded_at="2025-01-10T10:00:00")),
         ("line 1", "recorded_at", "timezone")),
    Case("jsonl: unknown ISO3 code", "jsonl", jsonl(annual(state="XXX")),
         ("line 1", "payload.state", "'XXX'", "not a known State")),
    Case("jsonl: NUL character in recorded_by", "jsonl", jsonl(annual(recorded_by="ali\u0000ce")),
         ("line 1", "recorded_by", "control characters")),
    Case("jsonl: one id for two different events", "jsonl",
         jsonl(annual(event_id="6f1f5a52-9d0e-4a57-a0a4-3c1bb6f2a001"),
               annual(state="LAO", event_id="6f1f5a52-9d0e-4a57-a0a4-3c1bb6f2a001")),
         ("line 2", "event_id", "line 1")),
    Case("jsonl: refused extension with a deadline", "jsonl",
         jsonl('{"type": "extension.decided", "occurred_on": "2024-09-13", "recorded_by": "a", '
               '"source": "x", "payload": {"state": "LAO", "article": 4, "meeting": "12MSP", '
               '"outcome": "refused", "granted_deadline": "2030-01-01"}}'),
         ("line 1", "granted_deadline")),
    Case("jsonl: correction that changes nothing", "jsonl",
         jsonl('{"type": "event.corrected", "occurred_on": "2025-01-10", "recorded_by": "a", '
               '"source": "x", "stream": "ccm:state:TGO", "payload": {"target_event_id": '
               '"6f1f5a52-9d0e-4a57-a0a4-3c1bb6f2a001", "reason": "typo"}}'),
         ("line 1", "correction must give")),
    # --- the command line ----------------------------------------------------------------------
    Case("cli: impossible --as-of date", "cli",
         ["query", "count", "parties", "--as-of", "2024-02-30"], ("2024-02-30",)),
    Case("cli: --known-at that is not a time", "cli",
         ["query", "count", "parties", "--known-at", "next tuesday-ish"], ("next tuesday-ish",)),
    Case("cli: --as-of before 2008", "cli",
         ["query", "count", "parties", "--as-of", "1990-01-01"], ("1990-01-01",)),
    Case("cli: unknown count", "cli", ["query", "count", "frobs"], ("frobs", "parties")),
    Case("cli: unknown State", "cli", ["query", "state", "Narnia"],
         ("'Narnia' is not a known State",)),
    Case("cli: ambiguous State", "cli", ["query", "state", "Korea"],
         ("could mean several", "KOR", "PRK")),
    Case("cli: HTML in a State name", "cli",
         ["query", "state", "<img src=x onerror=alert(1)>"], ("not a known State",)),
    Case("cli: SQL in a State name", "cli",
         ["query", "state", "Chile' OR '1'='1"], ("not a known State",)),
    Case("cli: oversized State name (10 000 characters)", "cli",
         ["query", "state", "Lao PDR " * 1250], ("not a known State",)),
    Case("cli: overdue annual without a year", "cli",
         ["query", "overdue", "annual"], ("--year",)),
    Case("cli: overdue initial with a year", "cli",
         ["query", "overdue", "initial", "--year", "2023"], ("--year", "annual")),
    Case("cli: year that is not a number", "cli", ["query", "annual", "2023a"],
         ("invalid int value", "2023a")),
    Case("cli: article that does not exist", "cli", ["query", "obligations", "9"],
         ("invalid choice", "9")),
    Case("cli: impossible period", "cli", ["query", "changes", "2024-13-01..2024-14-01"],
         ("2024-13-01",)),
    Case("cli: import of a missing file", "cli", ["import", "no-such-file.csv"],
         ("no-such-file.csv", "file not found")),
    Case("cli: import of a directory", "cli", ["import", "{tmp}/a-directory.csv"],
         ("not a file",)),
    Case("cli: import of an unsupported type", "cli", ["import", "events.txt"],
         ("unsupported file type", ".txt")),
    Case("cli: control characters in --recorded-by", "cli",
         ["import", "{tmp}/good.csv", "--recorded-by", "bob\x1b[2J"],
         ("recorded_by", "control characters")),
    Case("cli: unknown role in TRACKER_USERS", "cli", ["query", "count", "parties"],
         ("bad configuration", "TRACKER_USERS", "owner:111"),
         env={"TRACKER_USERS": "owner:111"}),
    Case("cli: user id that is not a number in TRACKER_USERS", "cli",
         ["query", "count", "parties"], ("bad configuration", "user id must be a number"),
         env={"TRACKER_USERS": "admin:alice"}),
    Case("cli: unknown log level", "cli", ["query", "count", "parties"],
         ("bad configuration", "TRACKER_LOG_LEVEL", "LOUD"), env={"TRACKER_LOG_LEVEL": "LOUD"}),
    Case("cli: SQL in the schema name", "cli", ["query", "count", "parties"],
         ("bad configuration", "database_schema"),
         env={"TRACKER_DATABASE_SCHEMA": "x; DROP SCHEMA public CASCADE"}),
    # --- recording rules (what /record in the bot and console goes through) --------------------
    Case("record: report for a year the State was not a party", "record",
         lambda: (RECORDER, AnnualReportSubmitted(state="SSD", year_covered=2022), "2024-05-01"),
         ("payload.year_covered", "South Sudan", "not a State Party in 2022")),
    Case("record: report by a State that is not a party", "record",
         lambda: (RECORDER, AnnualReportSubmitted(state="AGO", year_covered=2023), "2024-05-01"),
         ("payload.state", "Angola", "not a State Party")),
    Case("record: compliance declaration with no obligation", "record",
         lambda: (RECORDER, ComplianceDeclared(state="FRA", article=4), "2024-05-01"),
         ("payload.article", "France", "no recorded Article 4 obligation")),
    Case("record: extension decision with no request", "record",
         lambda: (RECORDER, ExtensionDecided(state="CHL", article=4, meeting="11MSP",
                                             outcome="refused"), "2023-09-14"),
         ("payload.meeting", "no extension request", "11MSP")),
    Case("record: extension request to a meeting that does not exist", "record",
         lambda: (RECORDER, ExtensionRequested(state="LAO", article=4, meeting="99MSP"),
                  "2024-05-01"),
         ("payload.meeting", "99MSP", "not a recorded meeting")),
    Case("record: duplicate initial report", "record",
         lambda: (RECORDER, InitialReportSubmitted(state="DEU"), "2024-05-01"),
         ("Germany", "initial report is already recorded")),
    Case("record: duplicate annual report", "record",
         lambda: (RECORDER, AnnualReportSubmitted(state="DEU", year_covered=2023), "2024-05-01"),
         ("Germany", "annual report for 2023 is already recorded")),
    Case("record: duplicate deposit", "record",
         lambda: (RECORDER, ConsentDeposited(state="FRA", instrument="ratification"),
                  "2024-05-01"),
         ("France", "already deposited")),
    Case("record: duplicate obligation", "record",
         lambda: (RECORDER, ObligationDeclared(state="LAO", article=4), "2024-05-01"),
         ("Lao PDR", "Article 4 obligation 'main' is already recorded")),
    Case("record: compliance declared twice", "record",
         lambda: (RECORDER, ComplianceDeclared(state="BIH", article=4), "2024-05-01"),
         ("already declared compliance",)),
    Case("record: a fact from the future", "record",
         lambda: (RECORDER, AnnualReportSubmitted(state="TGO", year_covered=2023), "2025-06-01"),
         ("occurred_on", "in the future", "2025-01-15")),
    Case("record: a report before its year ended", "record",
         lambda: (RECORDER, AnnualReportSubmitted(state="TGO", year_covered=2024), "2024-12-01"),
         ("occurred_on", "cannot be submitted before 2025-01-01")),
    Case("record: a report before the State joined", "record",
         lambda: (RECORDER, StateFactReported(state="SSD", fact="provided_assistance"),
                  "2020-01-01"),
         ("occurred_on", "before South Sudan")),
    Case("record: signature after signature closed", "record",
         lambda: (RECORDER, StateSigned(state="USA"), "2012-05-01"),
         ("occurred_on", "open for signature", "accedes")),
    Case("record: signature before 2008", "record",
         lambda: (RECORDER, StateSigned(state="USA"), "2007-06-01"),
         ("occurred_on", "2007-06-01", "outside")),
    Case("record: withdrawal taking effect too early", "record",
         lambda: (RECORDER, WithdrawalNotified(state="LTU", effective_on="2025-02-01"),
                  "2025-01-10"),
         ("payload.effective_on", "six months")),
    Case("record: a viewer tries to record", "record",
         lambda: (VIEWER, AnnualReportSubmitted(state="TGO", year_covered=2023), "2025-01-10"),
         ("viewer", "recorder or admin")),
    Case("record: correction of an event that does not exist", "record",
         lambda: (RECORDER, EventRetracted(target_event_id=uuid.UUID(int=7), reason="typo"),
                  "2025-01-10"),
         ("payload.target_event_id", "no event", "is recorded")),
    Case("record: year of an impossible type", "record",
         lambda: (RECORDER, AnnualReportSubmitted(state="TGO", year_covered="MMXXIII"),
                  "2025-01-10"),
         ("year_covered", "integer")),
    Case("record: impossible date", "record",
         lambda: (RECORDER, AnnualReportSubmitted(state="TGO", year_covered=2023), "2024-02-30"),
         ("occurred_on", "2024-02-30", "not a real calendar date")),
    Case("record: HTML in free text", "record",
         lambda: (RECORDER, StateFactReported(state="TGO", fact="provided_assistance",
                                              detail="<b>bold</b>\x00"), "2025-01-10"),
         ("detail", "control characters")),
    Case("record: ISO3 code in lower case with SQL", "record",
         lambda: (RECORDER, AnnualReportSubmitted(state="tgo'--", year_covered=2023),
                  "2025-01-10"),
         ("state", "pattern")),
]

#: Messages to the running bot (its clock says 27 November 2025), as (text, user) in `given`.
BOT_CASES: list[Case] = [
    Case("bot: oversized message (4000 characters)", "bot",
         ("/state " + "Lao PDR " * 499, VIEWER_ID), ("too long for a State name", "characters)")),
    Case("bot: oversized source in /record", "bot",
         (f"/record annual-report Togo 2024 on 2025-04-30 source {'s' * 600}", RECORDER_ID),
         ("source is too long", "600 characters", "500")),
    Case("bot: control character in a question", "bot", ("/count parties\x01", VIEWER_ID),
         ("invisible control character", "U+0001", "/count parties")),
    Case("bot: terminal escape in a State name", "bot", ("/state Lao\x1b[31m", VIEWER_ID),
         ("invisible control character", "U+001B")),
    Case("bot: NUL in a record", "bot",
         ("/record annual-report Togo 2024 on 2025-04-30 source a\x00b", RECORDER_ID),
         ("invisible control character", "U+0000")),
    Case("bot: HTML in a State name", "bot", ("/state <b>Laos</b>", VIEWER_ID),
         ("&lt;b&gt;Laos&lt;/b&gt;", "is not a State I know")),
    Case("bot: script tag as a State name", "bot",
         ("/state <script>alert(1)</script>", VIEWER_ID),
         ("&lt;script&gt;alert(1)&lt;/script&gt;", "could not read the date")),
    Case("bot: Markdown link in a State name", "bot",
         ("/state [Laos](http://evil.example)", VIEWER_ID),
         ("[Laos](http://evil.example)", "not a State I know")),
    Case("bot: SQL in a State name", "bot", ("/state Chile' OR '1'='1", VIEWER_ID),
         ("read the State as 'Chile' OR'", "could not read the date: ''1'='1'")),
    Case("bot: SQL in a record", "bot",
         ("/record annual-report Togo 2024 on 2025-02-30 source x'); DROP TABLE events;--",
          RECORDER_ID), ("2025-02-30", "not a real day")),
    Case("bot: impossible date", "bot", ("/count parties as of 2024-02-30", VIEWER_ID),
         ("2024-02-30", "not a real day")),
    Case("bot: date before 2008", "bot", ("/count parties as of 1999-01-01", VIEWER_ID),
         ("1999-01-01", "outside 2008–2100")),
    Case("bot: date far in the future", "bot", ("/count parties as of 2150-01-01", VIEWER_ID),
         ("2150-01-01", "outside 2008–2100")),
    Case("bot: unknown State", "bot", ("/state Narnia", VIEWER_ID),
         ("Narnia", "not a State I know")),
    Case("bot: ambiguous State", "bot", ("/state Korea", VIEWER_ID),
         ("could mean several States",)),
    Case("bot: unknown command", "bot", ("/dropdb", VIEWER_ID),
         ("do not know the command '/dropdb'",)),
    Case("bot: report for a year the State was not a party", "bot",
         ("/record annual-report South Sudan 2022 on 2024-05-01 source x", RECORDER_ID),
         ("South Sudan (SSD) was not a State Party in 2022",)),
    Case("bot: compliance declaration with no obligation", "bot",
         ("/record compliance France article 4 on 2024-05-01 source x", RECORDER_ID),
         ("France (FRA) has no recorded Article 4 obligation",)),
    Case("bot: extension decision with no request", "bot",
         ("/record extension-decision Chile article 4 meeting 11MSP refused on 2023-09-14 "
          "source x", RECORDER_ID), ("No extension request of Chile (CHL)", "11MSP")),
    Case("bot: duplicate initial report", "bot",
         ("/record initial-report Germany on 2024-05-01 source x", RECORDER_ID),
         ("initial report is already recorded",)),
    Case("bot: a report from the future", "bot",
         ("/record annual-report Togo 2024 on 2026-06-01 source x", RECORDER_ID),
         ("in the future", "2025-11-27")),
    Case("bot: unknown kind of record", "bot", ("/record frobnicate Togo", RECORDER_ID),
         ("cannot record 'frobnicate'",)),
    Case("bot: a viewer records", "bot",
         ("/record annual-report Togo 2024 on 2025-04-30 source x", VIEWER_ID),
         ("recorder or admin role",)),
]
# fmt: on


# --- the database every case runs against -------------------------------------------------------


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def seeded(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TestDatabase]:
    """One database per backend with the bundled dataset, shared by every case of the module."""
    from tests.databases import TestDatabase, postgres_url

    if request.param == "sqlite":
        db = TestDatabase("sqlite", f"sqlite:///{tmp_path_factory.mktemp('bad') / 'events.db'}")
        _seed(db)
        yield db
        return
    admin = request.getfixturevalue("postgres_admin")
    if isinstance(admin, str):
        if os.environ.get("CI") == "true":
            pytest.fail(admin, pytrace=False)
        pytest.skip(admin)
    schema = f"t_{uuid.uuid4().hex[:16]}"
    with admin.begin() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        db = TestDatabase("postgres", postgres_url(), schema)
        _seed(db)
        yield db
    finally:
        with admin.begin() as connection:
            connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))


def _seed(db: TestDatabase) -> None:
    upgrade(db.url, db.schema)
    with SqlEventStore(db.url, db.schema) as store:
        load_bundled(store)


# --- the catalogue ------------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_a_malformed_input_is_refused_by_name_and_the_store_is_unchanged(
    case: Case,
    seeded: TestDatabase,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    engine = seeded.engine()
    try:
        before = dump_digest(engine)

        refusal = _submit(case, seeded, tmp_path, monkeypatch, capsys)

        after = dump_digest(engine)
    finally:
        engine.dispose()
    for fragment in case.says:
        assert fragment in refusal, f"the refusal does not say {fragment!r}:\n{refusal[:2000]}"
    assert len(refusal) <= LONGEST_MESSAGE, f"a {len(refusal)}-character refusal is not clear"
    assert after == before


@pytest.fixture(scope="module")
def bot_on(seeded: TestDatabase) -> Iterator[RunningBot]:
    """The real bot (fake Bot API) on the seeded database, shared by the module's bot cases."""
    with (
        FakeBotApi() as api,
        running_bot(api, seeded.url, database_schema=seeded.schema) as bot,
    ):
        yield bot


@pytest.mark.parametrize("case", BOT_CASES, ids=[case.id for case in BOT_CASES])
def test_a_malformed_message_to_the_bot_is_refused_by_name_and_the_store_is_unchanged(
    case: Case, seeded: TestDatabase, bot_on: RunningBot
) -> None:
    text, user = case.given
    engine = seeded.engine()
    try:
        before = dump_digest(engine)

        replies = exchange(bot_on, text, user)

        after = dump_digest(engine)
    finally:
        engine.dispose()
    refusal = "\n".join(reply.text for reply in replies)
    for fragment in case.says:
        assert fragment in refusal, f"the reply does not say {fragment!r}:\n{refusal[:2000]}"
    assert len(refusal) <= LONGEST_MESSAGE, f"a {len(refusal)}-character reply is not clear"
    assert "<script" not in refusal and "<b>Laos" not in refusal  # user text is escaped
    assert formatting.ERROR not in refusal  # refused as a mistake, not as a crash
    assert after == before


def test_the_catalogue_covers_at_least_fifty_inputs_on_every_way_in() -> None:
    ways_in = {case.way_in for case in [*CASES, *BOT_CASES]}
    assert len(CASES) + len(BOT_CASES) >= 50
    assert {"csv", "jsonl", "cli", "record", "bot"} <= ways_in
    every = [*CASES, *BOT_CASES]
    counts = ", ".join(f"{way} {sum(c.way_in == way for c in every)}" for way in sorted(ways_in))
    print(f"\n[bad inputs] {len(every)} inputs ({counts}), on each backend")


def test_text_with_sql_and_html_metacharacters_is_stored_verbatim_and_nothing_is_executed(
    store: SqlEventStore, tmp_path: Path
) -> None:
    # Arrange: free text may legitimately hold quotes, semicolons and angle brackets.
    load_bundled(store)
    text = "note'); DROP TABLE events; -- <b>bold</b> *stars* _under_ `tick` & \\ %s %(x)s"
    path = tmp_path / "odd.csv"
    path.write_text(
        csv_rows(f'report.annual.submitted,2025-01-10,alice,"{text}",Togo,2023'), encoding="utf-8"
    )
    before = store.head_position()

    # Act
    report = run_import(store, path, clock=FixedClock(NOW))

    # Assert: one event stored, its text as given, the rest of the table intact.
    assert (report.added, report.refused) == (1, ())
    stored = list(store.read_all(after=before))
    assert [e.source for e in stored] == [text]
    assert len(list(store.read_all())) == before + 1


def test_a_csv_row_gives_an_article_number_as_a_plain_cell(
    store: SqlEventStore, tmp_path: Path
) -> None:
    # Arrange: found by the catalogue: "4" in a payload.article column was refused with
    # "Input should be 3, 4 or 5", so no obligation, compliance or extension could come by CSV.
    path = tmp_path / "obligations.csv"
    path.write_text(
        csv_rows(
            "obligation.declared,2024-01-10,alice,x,Lao PDR,4,later-1,later_contamination,"
            "2023-06-01",
            header="type,occurred_on,recorded_by,source,state,payload.article,payload.obligation,"
            "payload.basis,payload.hostilities_ended_on",
        ),
        encoding="utf-8",
    )

    # Act: into an empty store, so the treaty rules (Lao PDR is no party there) stay out of it
    report = run_import(store, path, clock=FixedClock(NOW), check_rules=False)

    # Assert
    assert report.refused == ()
    (event,) = store.read_all()
    assert isinstance(event.payload, ObligationDeclared)
    assert (event.payload.article, event.payload.obligation) == (4, "later-1")


# --- ways in ------------------------------------------------------------------------------------


def _submit(
    case: Case,
    db: TestDatabase,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> str:
    """Hand the input in the way the case says; return everything the user was told."""
    if case.way_in == "record":
        return _record(case.given, db)
    if case.way_in == "csv":
        path = tmp_path / "input.csv"
        path.write_text(case.given, encoding="utf-8")
        argv = ["import", str(path)]
    elif case.way_in == "jsonl":
        path = tmp_path / "input.jsonl"
        path.write_text(case.given, encoding="utf-8")
        argv = ["import", str(path)]
    elif case.way_in == "file":
        name, content = case.given
        path = tmp_path / name
        path.write_bytes(content)
        argv = ["import", str(path)]
    else:
        (tmp_path / "a-directory.csv").mkdir()
        (tmp_path / "good.csv").write_text(
            csv_rows("report.annual.submitted,2025-01-10,,x,Togo,2023"), encoding="utf-8"
        )
        argv = [arg.replace("{tmp}", str(tmp_path)) for arg in case.given]
        monkeypatch.chdir(tmp_path)
    return _run_cli(argv, db, case.env, monkeypatch, capsys)


def _run_cli(
    argv: list[str],
    db: TestDatabase,
    env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> str:
    for name in list(os.environ):
        if name.startswith("TRACKER_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("TRACKER_DATABASE_URL", db.url)
    if db.schema:
        monkeypatch.setenv("TRACKER_DATABASE_SCHEMA", db.schema)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    out = io.StringIO()
    capsys.readouterr()
    try:
        code = cli.main(argv, out=out)
    except SystemExit as exc:  # argparse refuses before main() runs
        code = exc.code if isinstance(exc.code, int) else 2
    told = out.getvalue() + capsys.readouterr().err
    assert code != 0, f"exit code 0 for a bad input:\n{told[:2000]}"
    return told


def _record(given: Recording, db: TestDatabase) -> str:
    with SqlEventStore(db.url, db.schema) as store:
        recorder = Recorder(TrackerService(store, FixedClock(NOW)))
        try:
            actor, payload, occurred_on = given()
            recorder.record(actor, payload, occurred_on, "catalogue")
        except (ValueError, ValidationError, PermissionDenied) as exc:
            return str(exc)
    raise AssertionError("the input was recorded")
