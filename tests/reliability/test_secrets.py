"""Secrets: the database password, the bot token and the webhook secret never reach a log line
(at DEBUG), an error shown to the user, an export or a report.

Each command runs as its own `tracker` process with TRACKER_LOG_LEVEL=DEBUG, so logging is set
up exactly as in production, and everything it prints or writes is searched for the secrets.
The password belongs to a PostgreSQL role made for the test (the server trusts local
connections, so the password is never checked, but it is in the URL every command is given),
and to URLs of servers that are not there (127.0.0.1, closed port) or cannot be parsed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

PASSWORD = f"pw-{uuid.uuid4().hex}"
TOKEN = f"123456789:AAF{uuid.uuid4().hex}"
WEBHOOK_SECRET = f"whs-{uuid.uuid4().hex}"
SECRETS = (PASSWORD, TOKEN, WEBHOOK_SECRET)


@dataclass(frozen=True)
class Run:
    argv: list[str]
    code: int
    told: str  # stdout and stderr together


@pytest.fixture(scope="module")
def role_url(postgres_admin: sa.Engine | str) -> Iterator[tuple[str, str]]:
    """(URL with a password, schema) of a PostgreSQL role and schema made for this module."""
    from tests.databases import postgres_url

    if isinstance(postgres_admin, str):
        if os.environ.get("CI") == "true":
            pytest.fail(postgres_admin, pytrace=False)
        pytest.skip(postgres_admin)
    suffix = uuid.uuid4().hex[:12]
    role, schema = f"tt_secret_{suffix}", f"t_secret_{suffix}"
    with postgres_admin.begin() as connection:
        connection.execute(sa.text(f"CREATE ROLE {role} LOGIN PASSWORD '{PASSWORD}'"))
        connection.execute(sa.text(f"CREATE SCHEMA {schema} AUTHORIZATION {role}"))
    url = sa.make_url(postgres_url()).set(username=role, password=PASSWORD)
    try:
        yield url.render_as_string(hide_password=False), schema
    finally:
        with postgres_admin.begin() as connection:
            connection.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
            connection.execute(sa.text(f"DROP ROLE {role}"))


@pytest.mark.postgres
def test_no_secret_reaches_logs_errors_exports_or_reports_on_a_working_database(
    role_url: tuple[str, str], tmp_path: Path
) -> None:
    # Arrange
    url, schema = role_url
    assert PASSWORD in url
    bad_csv = tmp_path / "bad.csv"
    bad_csv.write_text(
        "type,occurred_on,recorded_by,source,state\nstate.signed,2024-02-30,a,b,Narnia\n",
        encoding="utf-8",
    )
    commands = [
        ["init"],
        ["db", "upgrade"],
        ["query", "count", "parties", "--as-of", "2024-06-30", "--known-at", "2024-09-18"],
        ["query", "state", "Lao PDR", "--json"],
        ["query", "state", "Narnia"],
        ["query", "overdue", "annual"],
        ["import", str(bad_csv)],
        ["export", str(tmp_path / "backup.jsonl")],
        ["export", "-"],
        *(
            ["report", "--period", "2023-24", "--format", fmt, "-o", str(tmp_path / f"r.{fmt}")]
            for fmt in ("md", "html", "csv", "json")
        ),
        ["report", "--period", "2023-24", "--format", "md"],
    ]

    # Act
    runs = [_tracker(argv, url, schema, tmp_path) for argv in commands]

    # Assert: the commands really ran (and logged at DEBUG), and no secret got out anywhere.
    assert [r.code for r in runs[:4]] == [0, 0, 0, 0], runs[0].told[-2000:]
    assert any(r.code != 0 for r in runs)  # the bad inputs were refused, with a message
    _assert_no_secret(runs, tmp_path)
    print(
        f"\n[secrets] {len(runs)} commands at DEBUG, {sum(len(r.told) for r in runs)} characters "
        f"of output and {len(list(tmp_path.iterdir()))} files written: no secret found"
    )


@pytest.mark.parametrize(
    ("url", "says"),
    [
        (f"postgresql+psycopg://alice:{PASSWORD}@127.0.0.1:1/test", "unavailable"),
        (f"postgresql://alice:{PASSWORD}@127.0.0.1:1/test?connect_timeout=2", "unavailable"),
        (f"postgresql+psycopg://alice:{PASSWORD}@127.0.0.1:notaport/test", "database URL"),
        (f"postgresql+psycopg://alice:{PASSWORD}@127.0.0.1:99999/test", "unavailable"),
        (f"mysql://alice:{PASSWORD}@127.0.0.1:1/test", "unsupported database"),
        (f"postgres://alice:{PASSWORD}@127.0.0.1:1/test", "unsupported database"),
        (f"postgresql+psycopg://alice:{PASSWORD}@127.0.0.1:1/test%", "unavailable"),
    ],
    ids=[
        "closed port",
        "no driver",
        "port not a number",
        "port too big",
        "mysql",
        "postgres:",
        "%",
    ],
)
def test_a_database_that_cannot_be_used_is_reported_without_its_password(
    url: str, says: str, tmp_path: Path
) -> None:
    runs = [
        _tracker(argv, url, None, tmp_path) for argv in (["query", "count", "parties"], ["init"])
    ]

    assert all(r.code != 0 for r in runs)
    assert all(says in r.told for r in runs), runs[0].told[-2000:]
    assert all("Traceback" not in r.told for r in runs), runs[0].told[-2000:]
    _assert_no_secret(runs, tmp_path)


def test_the_bot_token_and_webhook_secret_never_reach_the_output_of_any_command(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'events.db'}"
    runs = [
        _tracker(argv, url, None, tmp_path)
        for argv in (
            ["init"],
            ["query", "state", "Korea"],
            ["report", "--period", "2023-24", "--format", "html"],
        )
    ]

    assert [r.code for r in runs] == [0, 2, 0]  # Korea is ambiguous: refused, by name
    _assert_no_secret(runs, tmp_path)


@pytest.mark.postgres
def test_the_running_bot_logs_at_debug_without_any_secret(
    role_url: tuple[str, str], tmp_path: Path
) -> None:
    # Arrange: `tracker bot` as a process, at DEBUG, against the fake Bot API, with the token
    # and the database password (in its URL) that must not come out.
    from e2e.fake_bot_api import FakeBotApi

    url, schema = role_url
    assert _tracker(["init"], url, schema, tmp_path).code == 0
    env = _env(url, schema)
    log = tmp_path / "bot.log"
    with FakeBotApi(token=TOKEN) as api, log.open("w") as output:
        env["TRACKER_TELEGRAM_BASE_URL"] = api.url
        tracker = shutil.which("tracker", path=str(Path(sys.executable).parent))
        command = [tracker] if tracker else [sys.executable, "-m", "tracker.cli"]
        bot = subprocess.Popen(
            [*command, "bot"], env=env, cwd=tmp_path, stdout=output, stderr=subprocess.STDOUT
        )
        try:
            # Act: a question, a stranger, a failing send (retried and logged), a bad record.
            api.wait_for("getUpdates", timeout=60)
            api.push_message("/count parties as of 2024-06-30", user_id=111)
            api.wait_for("sendMessage")
            api.push_message("/whoami", user_id=999)
            api.wait_for("sendMessage", 2)
            api.fail_next("sendMessage", status=502)
            api.push_message("/record annual-report Narnia 2023 on 2024-05-01 source x", 111)
            api.wait_for("sendMessage", 3)
        finally:
            bot.terminate()
            code = bot.wait(timeout=30)
    told = log.read_text(encoding="utf-8")

    # Assert: it ran, it logged at DEBUG (Bot API URLs included), and no secret is in there.
    assert code == 0, told[-3000:]
    assert told.count(" DEBUG ") > 20
    assert "/bot***" in told  # the Bot API URL was logged, with the token masked
    _assert_no_secret([Run(["bot"], code, told)], tmp_path)
    assert TOKEN.split(":")[1] not in told


#: Log lines that a library or a careless handler could write: URLs with the token, the
#: settings object, an exception carrying the password, with and without a traceback.
_LOGGING_SCRIPT = """
import logging
from tracker.config import Settings

settings = Settings()
settings.configure_logging()
secret_url = settings.database_url
token = settings.telegram_token.get_secret_value()
logging.getLogger("telegram.ext.Updater").debug("POST https://api.telegram.org/bot%s/getMe", token)
logging.getLogger("httpx").warning("HTTP Request: POST https://127.0.0.1/bot" + token + "/send")
logging.getLogger("tracker").debug("settings: %r", settings)
logging.getLogger("tracker").info("connecting to %s", secret_url)
try:
    raise RuntimeError(f"could not connect to {secret_url} with {token}")
except RuntimeError:
    logging.getLogger("bot.app").exception("error while handling an update")
hook = settings.webhook_secret.get_secret_value()
logging.getLogger("tracker").error("webhook secret was %s", hook)
print("logged", flush=True)
"""


def test_every_log_line_is_redacted_of_every_secret_even_at_debug(tmp_path: Path) -> None:
    # Arrange
    env = _env(f"postgresql+psycopg://alice:{PASSWORD}@127.0.0.1:1/test", None)

    # Act
    done = subprocess.run(
        [sys.executable, "-c", _LOGGING_SCRIPT],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    # Assert: every line was written (at DEBUG too), each with its secrets masked.
    assert done.returncode == 0, done.stderr[-2000:]
    log = done.stdout + done.stderr
    assert log.count(" DEBUG ") == 2 and "Traceback" in log
    assert log.count("***") >= 6
    _assert_no_secret([Run(["(logging)"], 0, log)], tmp_path)


# --- helpers ------------------------------------------------------------------------------------


def _env(url: str, schema: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKER_")}
    env.update(
        TRACKER_DATABASE_URL=url,
        TRACKER_LOG_LEVEL="DEBUG",
        TRACKER_TELEGRAM_TOKEN=TOKEN,
        TRACKER_WEBHOOK_SECRET=WEBHOOK_SECRET,
        TRACKER_USERS="admin:111,viewer:333",
    )
    if schema:
        env["TRACKER_DATABASE_SCHEMA"] = schema
    return env


def _tracker(argv: list[str], url: str, schema: str | None, cwd: Path) -> Run:
    env = _env(url, schema)
    tracker = shutil.which("tracker", path=str(Path(sys.executable).parent))
    command = [tracker] if tracker else [sys.executable, "-m", "tracker.cli"]
    done = subprocess.run(
        [*command, *argv],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return Run(argv, done.returncode, done.stdout + done.stderr)


def _assert_no_secret(runs: list[Run], folder: Path) -> None:
    for run in runs:
        for secret in SECRETS:
            assert secret not in run.told, f"`tracker {' '.join(run.argv)}` printed a secret"
    for path in folder.rglob("*"):
        if path.is_file():
            content = path.read_bytes()
            for secret in SECRETS:
                assert secret.encode() not in content, f"{path.name} holds a secret"
