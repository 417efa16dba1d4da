"""The shared command parser (tracker.commands) and the conversation behind it.

Examples of what people type, what they get when it cannot be read, and hypothesis fuzzing:
every input gets a Reply and no exception escapes, and every command prints back as text that
parses to the same command (what buttons rely on).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from events.sql import SqlEventStore, upgrade
from tracker import commands as c
from tracker.clock import FixedClock
from tracker.config import Role
from tracker.conversation import Conversation, Reply, render_plain
from tracker.importer import load_bundled
from tracker.recording import Actor
from tracker.service import TrackerService

TODAY = date(2025, 11, 27)
END_OF_12MSP_REPORT_DAY = datetime(2024, 9, 18, 23, 59, 59, 999999, tzinfo=UTC)

EXAMPLES: list[tuple[str, c.Command]] = [
    (
        "/count parties as of 30 June 2024 known at 2024-09-18",
        c.Count("parties", date(2024, 6, 30), END_OF_12MSP_REPORT_DAY),
    ),
    ("count parties as of 2024-06-30", c.Count("parties", date(2024, 6, 30))),
    ("/count parties 30/06/2024", c.Count("parties", date(2024, 6, 30))),
    ("/COUNT States Parties as of June 30, 2024", c.Count("parties", date(2024, 6, 30))),
    ("/count@tracker_bot signatories", c.Count("signatories")),
    ("/count in force as of end of 2023", c.Count("bound", date(2023, 12, 31))),
    ("/count parties as of today", c.Count("parties", TODAY)),
    ("/state Laos 2024-06-30", c.StateProfile("Laos", date(2024, 6, 30))),
    (
        "/state Bosnia and Herzegovina end of 2023",
        c.StateProfile("Bosnia and Herzegovina", date(2023, 12, 31)),
    ),
    ("state Holy See", c.StateProfile("Holy See")),
    (
        "/state Laos as of 1 July 2024 known at 2024-09-18T12:00:00Z",
        c.StateProfile("Laos", date(2024, 7, 1), datetime(2024, 9, 18, 12, tzinfo=UTC)),
    ),
    ("/overdue", c.Overdue("initial")),
    ("/overdue initial 2024-06-30", c.Overdue("initial", None, date(2024, 6, 30))),
    ("/overdue annual 2023", c.Overdue("annual", 2023)),
    ("/overdue annual 2023 as of 2024-06-30", c.Overdue("annual", 2023, date(2024, 6, 30))),
    ("/annual 2023 30 June 2024", c.Annual(2023, date(2024, 6, 30))),
    ("/obligations article 4", c.Obligations(4)),
    ("/deadlines", c.Deadlines(90)),
    ("/deadlines 30 days as of 2025-01-01", c.Deadlines(30, date(2025, 1, 1))),
    ("/extensions 12 msp", c.Extensions("12MSP")),
    ("/extensions", c.Extensions(None)),
    (
        "/indicators transparency 2023-24",
        c.Indicators(date(2023, 7, 1), date(2024, 6, 30), "transparency"),
    ),
    (
        "/indicators victim assistance 1 July 2023 to 30 June 2024",
        c.Indicators(date(2023, 7, 1), date(2024, 6, 30), "victim assistance"),
    ),
    ("/indicators", c.Indicators(date(2024, 7, 1), date(2025, 6, 30))),
    ("/report 2023-07-01..2024-06-30", c.Report(date(2023, 7, 1), date(2024, 6, 30))),
    ("/report 2024", c.Report(date(2024, 1, 1), date(2024, 12, 31))),
    ("/chart membership as of 2024-06-30", c.Chart("membership", date(2024, 6, 30))),
    ("/export parties", c.Export(c.Count("parties"))),
    (
        "/export overdue initial 2024-06-30",
        c.Export(c.Overdue("initial", None, date(2024, 6, 30))),
    ),
    ("/calendar", c.Calendar()),
    ("/calendar Lao PDR", c.Calendar("Lao PDR")),
    ("/whoami", c.WhoAmI()),
    ("/start deep-link-payload", c.Start()),
    ("/help count", c.Help("count")),
    ("/help /profile", c.Help("state")),
    ("/subscribe", c.Subscribe()),
    ("/record", c.RecordHelp()),
    (
        "/record annual-report Lao 2023 on 30 April 2024 source CCM/MSP/2024/7",
        c.Record("annual-report", "CCM/MSP/2024/7", date(2024, 4, 30), "Lao", year=2023),
    ),
    (
        "/record accession Vanuatu on 2025-03-01 source C.N.12.2025 (depositary notification)",
        c.Record(
            "deposit",
            "C.N.12.2025 (depositary notification)",
            date(2025, 3, 1),
            "Vanuatu",
            instrument="accession",
        ),
    ),
    (
        "/record extension-decision Chad article 4 meeting 13MSP granted 2026-08-01 "
        "on 2025-09-12 source CCM/MSP/2025/6",
        c.Record(
            "extension-decision",
            "CCM/MSP/2025/6",
            date(2025, 9, 12),
            "Chad",
            article=4,
            meeting="13MSP",
            outcome="granted",
            deadline=date(2026, 8, 1),
        ),
    ),
    (
        "/record correction 0b7c7a1e-1111-4222-8333-444455556666 date 2024-04-29 "
        "reason misread the date source CCM/MSP/2024/7",
        c.Record(
            "correction",
            "CCM/MSP/2024/7",
            date(2024, 4, 29),
            target=uuid.UUID("0b7c7a1e-1111-4222-8333-444455556666"),
            reason="misread the date",
        ),
    ),
]


@pytest.mark.parametrize(("text", "expected"), EXAMPLES, ids=[t for t, _ in EXAMPLES])
def test_examples_parse_to_the_expected_command(text: str, expected: c.Command) -> None:
    assert c.parse(text, TODAY) == expected


@pytest.mark.parametrize(("text", "expected"), EXAMPLES, ids=[t for t, _ in EXAMPLES])
def test_every_command_prints_back_as_text_that_parses_to_it(
    text: str, expected: c.Command
) -> None:
    assert c.parse(expected.to_text(), TODAY) == expected


ERRORS: list[tuple[str, list[str]]] = [
    ("", ["send a command"]),
    ("/frobnicate", ["I do not know the command '/frobnicate'", "/help"]),
    ("/count", ["what should I count?", "parties, bound, signatories"]),
    ("/count sheep", ["I cannot count 'sheep'", "parties"]),
    ("/count parties as of 31 June 2024", ["after 'as of'", "'31 June 2024'", "not a date"]),
    ("/count parties as of 2024-02-30", ["'2024-02-30' is not a real day", "day 30, month 2"]),
    ("/state Laos 2024", ["I read the State as 'Laos'", "names no day", "end of 2024"]),
    ("/state Laos 31/02/2024", ["I read the State as 'Laos'", "not a real day"]),
    ("/state", ["which State?", "/state NAME [DATE]"]),
    ("/state Laos as of 2024-06-30 as of 2024-01-01", ["'as of' is given twice"]),
    ("/count parties as of", ["'as of' needs a date"]),
    ("/count parties as of 2204-06-30", ["outside 2008–2100", "check the year"]),
    ("/overdue annual 23", ["'23' is not a year"]),
    ("/overdue annual 1999", ["outside the Convention's years"]),
    ("/overdue sometimes", ["not 'sometimes'", "'initial' or 'annual YEAR'"]),
    ("/extensions twelfth", ["is not a meeting", "12MSP"]),
    ("/extensions 12MSP as of 2024-01-01", ["'as of' does not apply"]),
    ("/deadlines forever", ["not a number of days"]),
    ("/report last year", ["could not read 'last year' as a period"]),
    ("/export help", ["/help has no list to export"]),
    ("/record frobnicate Lao", ["I cannot record 'frobnicate'", "annual-report"]),
    ("/record annual-report Lao 2023 on 2024-04-30", ["every record needs its source"]),
    ("/record annual-report Lao on 2024-04-30 source X", ["which year"]),
    ("/record deposit Laos on 2024-04-30 source X", ["which instrument"]),
    ("/record compliance Peru on 2024-04-30 source X", ["which article"]),
    ("/record extension-request Chad article 4 on 2024-01-01 source X", ["which meeting"]),
    ("/record correction not-an-id date 2024-01-01 reason x source y", ["is not an event id"]),
    ("/help frobnicate", ["there is no command 'frobnicate'"]),
]


@pytest.mark.parametrize(("text", "fragments"), ERRORS, ids=[t or "empty" for t, _ in ERRORS])
def test_what_cannot_be_read_is_explained(text: str, fragments: list[str]) -> None:
    with pytest.raises(c.ParseError) as caught:
        c.parse(text, TODAY)
    for fragment in fragments:
        assert fragment in str(caught.value)


# --- fuzzing ------------------------------------------------------------------------------------

WORDS = [
    "/count", "count", "/state", "/overdue", "/annual", "/obligations", "/deadlines",
    "/extensions", "/indicators", "/export", "/calendar", "/record", "/help", "/whoami",
    "/start", "/confirm", "/cancel", "/subscribe", "parties", "bound", "signatories",
    "withdrawn", "initial", "annual", "Laos", "Lao", "Korea", "Congo", "Bosnia", "Holy See",
    "Vatican", "Guinea", "Saint", "as", "of", "as of", "known at", "known", "on", "source",
    "reason", "article", "meeting", "granted", "refused", "deadline", "year", "date", "form",
    "2024-06-30", "30 June 2024", "30/06/2024", "31/02/2024", "end of 2023", "today", "2023",
    "2023-24", "2023-07-01..2024-06-30", "12MSP", "13MSP", "4", "3", "99999", "-1", "0",
    "annual-report", "deposit", "accession", "correction", "retraction", "compliance",
    "extension-request", "extension-decision", "transparency", "@bot", "…", "'", '"', "<b>",
    "&amp;", "\n", "\t", "\x00", "🙂", "Côte d'Ivoire", "0b7c7a1e-1111-4222-8333-444455556666",
]  # fmt: skip
phrases = st.lists(st.sampled_from(WORDS), min_size=0, max_size=9).map(" ".join)
anything = st.one_of(
    phrases,
    st.text(max_size=300),
    phrases.flatmap(lambda p: st.text(max_size=30).map(lambda t: f"{p} {t}")),
)


@settings(max_examples=1500, deadline=None)
@given(anything)
def test_the_parser_returns_a_command_or_explains_and_never_fails_otherwise(text: str) -> None:
    try:
        command = c.parse(text, TODAY)
    except c.ParseError as exc:
        assert str(exc)
        return
    assert isinstance(command, c.Command)
    assert c.parse(command.to_text(), TODAY) == command


@pytest.fixture(scope="module")
def conversation(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Conversation]:
    """A conversation over the bundled dataset (module-wide: the fuzzer only reads)."""
    path: Path = tmp_path_factory.mktemp("fuzz") / "tracker.db"
    upgrade(f"sqlite:///{path}")
    store = SqlEventStore(f"sqlite:///{path}")
    load_bundled(store)
    service = TrackerService(store, FixedClock(datetime(2025, 11, 27, 12, tzinfo=UTC)))
    yield Conversation(service, front_end="telegram")
    store.close()


# Charts and reports are fuzzed through the parser above; drawing hundreds of them is slow.
SLOW = ("/chart", "/report", "chart", "report")
questions = anything.filter(lambda t: not t.strip().lower().startswith(SLOW))


@settings(
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(text=questions, role=st.sampled_from(list(Role)))
def test_every_input_gets_a_reply_and_no_exception_escapes(
    conversation: Conversation, text: str, role: Role
) -> None:
    before = conversation.service.store.head_position()
    reply = conversation.handle(text, Actor("telegram:1 (fuzz)", role))
    assert isinstance(reply, Reply)
    assert reply.title
    assert render_plain(reply)
    # Reading never writes: a /record only previews until its confirmation.
    assert conversation.service.store.head_position() == before


def test_the_conversation_turns_a_record_into_one_event_only_when_confirmed(
    conversation: Conversation,
) -> None:
    recorder = Actor("console:test", Role.RECORDER)
    store = conversation.service.store
    before = store.head_position()
    preview = conversation.handle(
        "record annual-report Lao 2024 on 30 April 2025 source CCM/MSP/2025/5", recorder
    )
    assert preview.status == "preview"
    confirm, cancel = (choice.command for choice in preview.choices)
    assert store.head_position() == before
    someone_else = conversation.handle(confirm, Actor("console:other", Role.ADMIN))
    assert someone_else.status == "refused"
    demoted = conversation.handle(confirm, Actor("console:test", Role.VIEWER))
    assert demoted.status == "refused"
    stored = conversation.handle(confirm, recorder)
    assert stored.status == "stored"
    assert store.head_position() == before + 1
    assert conversation.handle(confirm, recorder).status == "error"
    assert conversation.handle(cancel, recorder).status == "error"
    assert store.head_position() == before + 1


def test_every_record_kind_is_previewed_then_stored_with_who_recorded_it(
    conversation: Conversation,
) -> None:
    """Report, deposit, compliance, extension requested and decided, correction, retraction."""
    admin = Actor("console:coordinator", Role.ADMIN)
    store = conversation.service.store

    def record(text: str) -> Reply:
        preview = conversation.handle(text, admin)
        assert preview.status == "preview", render_plain(preview)
        stored = conversation.handle(preview.choices[0].command, admin)
        assert stored.status == "stored", render_plain(stored)
        return stored

    before = store.head_position()
    record("record initial-report Comoros on 2025-10-01 source ISU note 2025-10-02")
    record("record deposit Angola ratification on 2025-10-15 source C.N.500.2025.TREATIES-XXVI.6")
    record(
        "record extension-request Lao article 4 meeting 13MSP deadline 2030-08-01 "
        "on 2025-01-10 source CCM/MSP/2025/4"
    )
    record(
        "record extension-decision Laos article 4 meeting 13MSP granted 2030-08-01 "
        "on 2025-09-12 source CCM/MSP/2025/6"
    )
    record("record compliance Lao article 4 on 2025-10-20 source CCM/MSP/2025/7")
    state = conversation.handle("export state Comoros", admin)
    rows = state.attachments[0].content.decode().splitlines()
    report_id = next(r for r in rows if "initial Article 7 report" in r).split(",")[-1]
    record(
        f"record correction {report_id} date 2025-09-30 reason the note gives the day before "
        "source ISU note 2025-10-02"
    )
    record(f"record retraction {report_id} reason entered twice source ISU email 2025-10-03")
    new = list(store.read_all(after=before))
    assert [e.type for e in new] == [
        "report.initial.submitted",
        "state.consent_deposited",
        "extension.requested",
        "extension.decided",
        "compliance.declared",
        "event.corrected",
        "event.retracted",
    ]
    assert {e.recorded_by for e in new} == {"console:coordinator"}
    assert new[5].stream == new[6].stream == "ccm:state:COM"  # a correction joins its target


@pytest.mark.parametrize("text", ["/state today 2024-06-30", "/calendar Laos today 2024-06-30"])
def test_a_subject_ending_in_a_date_word_before_a_date_is_two_dates(text: str) -> None:
    with pytest.raises(c.ParseError, match="two dates given"):
        c.parse(text, TODAY)
