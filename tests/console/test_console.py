"""The bot's commands without Telegram: `tracker ask`, piped `tracker chat`, `tracker bot` with no
token. The database is set up the way the README's main job does it (`tracker init`)."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from events.sql import SqlEventStore
from tracker.cli import main

TRACKER = Path(sys.executable).with_name("tracker")


@pytest.fixture(scope="module")
def initialised(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database made by `tracker init` (schema and bundled dataset)."""
    path = tmp_path_factory.mktemp("console") / "tracker.db"
    result = subprocess.run(
        [str(TRACKER), "init"],
        env={**os.environ, "TRACKER_DATABASE_URL": f"sqlite:///{path}"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return path


@pytest.fixture
def database(initialised: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A private copy of the initialised database, named by TRACKER_DATABASE_URL; cwd tmp."""
    copy = tmp_path / "tracker.db"
    copy.write_bytes(initialised.read_bytes())
    url = f"sqlite:///{copy}"
    monkeypatch.setenv("TRACKER_DATABASE_URL", url)
    monkeypatch.delenv("TRACKER_TELEGRAM_TOKEN", raising=False)
    monkeypatch.chdir(tmp_path)
    yield url


def ask(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(["ask", *argv], out=out)
    return code, out.getvalue()


def events(url: str) -> int:
    store = SqlEventStore(url)
    try:
        return store.head_position()
    finally:
        store.close()


def test_ask_answers_with_the_figure_its_times_and_sources(database: str) -> None:
    code, text = ask("count parties as of 2024-06-30")
    assert code == 0
    lines = text.splitlines()
    assert lines[0] == "States Parties (instrument deposited, not withdrawn): 112"
    assert lines[1].startswith("(as of 2024-06-30; data as recorded up to ")
    assert "AFG   Afghanistan" in text
    assert "Sources: UNTC MTDSG XXVI-6 status" in text
    assert "'export count parties as of 2024-06-30' saves it as CSV" in text


def test_ask_takes_the_question_in_pieces_and_with_a_slash(database: str) -> None:
    code, text = ask("/overdue", "initial", "as", "of", "2024-06-30")
    assert code == 0
    assert text.startswith("Overdue initial Article 7 reports: 7\n(as of 2024-06-30;")
    assert "COM   Comoros" in text


def test_ask_explains_what_it_could_not_read(database: str) -> None:
    code, text = ask("count parties as of 31/02/2024")
    assert code == 1
    assert text.startswith("Sorry: I could not read the date after 'as of': '31/02/2024' is not")
    assert "day 31, month 2, year 2024" in text


def test_ask_offers_choices_for_an_ambiguous_name(database: str) -> None:
    code, text = ask("state Korea")
    assert code == 1
    assert "[1] Democratic People's Republic of Korea (PRK)  (state PRK)" in text
    assert "[2] Republic of Korea (KOR)  (state KOR)" in text


def test_ask_record_shows_the_event_and_stores_it_only_with_yes(database: str) -> None:
    question = "record annual-report Lao 2024 on 30 April 2025 source CCM/MSP/2025/5"
    before = events(database)
    code, text = ask(question)
    assert code == 0
    assert text.startswith("Check this event before it is stored\n")
    assert "  What: Lao PDR submitted its annual Article 7 report for 2024" in text
    assert "  Recorded by: console:" in text
    assert text.endswith("Nothing was stored: run the same command with --yes to store it.\n")
    assert events(database) == before

    code, text = ask(question, "--yes")
    assert code == 0
    assert "\nStored\n" in text
    assert events(database) == before + 1
    code, text = ask(question, "--yes")
    assert code == 1
    assert "already recorded" in text
    assert events(database) == before + 1


def test_ask_saves_files(database: str, tmp_path: Path) -> None:
    out = tmp_path / "out"
    for question, name in [
        ("export parties as of 2024-06-30", "count-parties-as-of-2024-06-30.csv"),
        ("report 2023-24", "progress-report-2023-07-01..2024-06-30.html"),
        ("chart membership as of 2024-06-30", "chart-membership-2024-06-30.png"),
        ("calendar Laos", "ccm-deadlines-lao.ics"),
    ]:
        code, text = ask(question, "-o", str(out))
        assert code == 0, text
        assert f"Saved {out / name} (" in text
        assert (out / name).stat().st_size > 100
    assert (out / "count-parties-as-of-2024-06-30.csv").read_text().count("\n") == 113


# Every command of the bot, in one piped console session (and a number to pick a choice).
SESSION = [
    ("help", "Commands"),
    ("/start", "Convention on Cluster Munitions: compliance tracker"),
    ("count parties as of 2024-06-30", "States Parties (instrument deposited, not withdrawn): 112"),
    ("state Laos 2024-06-30", "Lao PDR (LAO): bound"),
    ("state Korea", "could mean several States"),
    ("2", "Republic of Korea (KOR):"),
    ("overdue annual 2023 as of 2024-06-30", "Overdue annual Article 7 reports for 2023"),
    ("annual 2023 2024-06-30", "Annual Article 7 reports for 2023"),
    ("obligations 4 2024-06-30", "open Article 4 obligations: 10"),
    ("deadlines 365", "Deadlines from"),
    ("extensions 12MSP", "Extension requests for 12MSP: 3"),
    ("indicators transparency 2023-24", "Indicators for 2023-07-01 to 2024-06-30"),
    ("report 2023-24", "Saved progress-report-2023-07-01..2024-06-30.html"),
    ("chart reports as of 2024-06-30", "Saved chart-reports-2024-06-30.png"),
    ("export overdue initial 2024-06-30", "Saved overdue-initial-as-of-2024-06-30.csv"),
    ("calendar", "Saved ccm-deadlines-all.ics"),
    ("whoami", "Role: admin"),
    ("subscribe", "Reminders come from the Telegram bot"),
    ("record", "Record a fact"),
    ("nonsense words", "I do not know the command 'nonsense'"),
]


def test_piped_chat_answers_every_command_line_by_line(database: str, tmp_path: Path) -> None:
    lines = [text for text, _ in SESSION] + ["quit", "count parties"]
    result = subprocess.run(
        [str(TRACKER), "chat"],
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        timeout=180,
        cwd=tmp_path,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    output = result.stdout
    assert output.startswith("Convention on Cluster Munitions tracker: the bot's commands")
    assert "  count parties as of 2024-06-30\n  overdue initial as of 2024-06-30\n" in output
    transcript = output.split("\n> ")[1:]
    assert len(transcript) == len(SESSION)  # "quit" ended it: the line after is not answered
    for (question, expected), answer in zip(SESSION, transcript, strict=True):
        assert answer.startswith(question + "\n"), answer[:200]
        assert expected in answer, (question, answer[:400])
        assert "something went wrong" not in answer
    assert "Traceback" not in result.stderr


def test_chat_ends_at_end_of_input(database: str) -> None:
    result = subprocess.run(
        [str(TRACKER), "chat"],
        input="whoami\n",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0
    assert result.stdout.rstrip().endswith("Can record: yes")


def test_bot_without_a_token_says_what_to_do(
    database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["bot"], out=io.StringIO()) == 2
    error = capsys.readouterr().err
    assert "TRACKER_TELEGRAM_TOKEN" in error
    assert "tracker chat" in error
