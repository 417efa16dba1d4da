"""The container's entry point, run here against this machine's PostgreSQL in a fresh schema
(and, where no database answers, against a closed port): it migrates, loads the bundled
dataset, and then answers a question, imports a file, or runs the console chat; twice in a
row it changes nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[2]
ENTRYPOINT = ROOT / "deploy" / "entrypoint.sh"
HEALTHCHECK = ROOT / "deploy" / "healthcheck.py"
QUESTION = ["query", "count", "parties", "--as-of", "2024-06-30", "--known-at", "2024-09-18"]

pytestmark = pytest.mark.postgres


@pytest.fixture
def fresh_schema(postgres_admin: sa.Engine | str) -> Iterator[tuple[str, str]]:
    """(database URL, schema name) of a schema that does not exist yet; dropped afterwards."""
    from tests.databases import postgres_url

    if isinstance(postgres_admin, str):
        if os.environ.get("CI") == "true":
            pytest.fail(postgres_admin, pytrace=False)
        pytest.skip(postgres_admin)
    schema = f"t_deploy_{uuid.uuid4().hex[:12]}"
    try:
        yield postgres_url(), schema
    finally:
        with postgres_admin.begin() as connection:
            connection.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))


def test_the_entrypoint_migrates_loads_then_answers_imports_chats_or_runs_a_program(
    fresh_schema: tuple[str, str], tmp_path: Path
) -> None:
    # Arrange
    url, schema = fresh_schema
    reports = tmp_path / "reports.csv"
    reports.write_text(
        "type,occurred_on,recorded_by,source,state,payload.year_covered\n"
        "report.annual.submitted,2025-01-10,ops,note verbale 2025/12,Togo,2023\n",
        encoding="utf-8",
    )

    # Act: four starts on one database, as a container restarted with different commands.
    question = _entrypoint([*QUESTION, "--json"], url, schema, tmp_path)
    imported = _entrypoint(["import", str(reports)], url, schema, tmp_path)
    chat = _entrypoint([], url, schema, tmp_path, stdin="count parties as of 2024-06-30\n")
    shell = _entrypoint(["sh", "-c", "echo shell ran"], url, schema, tmp_path)
    health = _run([sys.executable, str(HEALTHCHECK)], url, schema, tmp_path)

    # Assert: the first start migrated and loaded; the later ones found nothing to add.
    for run in (question, imported, chat, shell):
        assert run.returncode == 0, run.stderr[-3000:]
    assert "655 events added, 0 already present" in question.stderr
    assert json.loads(question.stdout)["value"] == 112
    assert "0 events added, 655 already present" in imported.stderr
    assert "added 1" in imported.stdout
    assert "console chat" in chat.stderr and "112" in chat.stdout
    assert shell.stdout == "shell ran\n"
    assert health.returncode == 0 and health.stdout.startswith("healthy: 656 events")


def test_the_entrypoint_waits_for_the_database_then_gives_up_by_name(tmp_path: Path) -> None:
    url = "postgresql+psycopg://tracker:pw-not-shown@127.0.0.1:1/tracker"
    env = {"TRACKER_MIGRATE_ATTEMPTS": "2", "TRACKER_MIGRATE_DELAY": "0"}

    done = _entrypoint(QUESTION, url, None, tmp_path, extra=env)
    health = _run([sys.executable, str(HEALTHCHECK)], url, None, tmp_path)

    assert done.returncode == 1
    assert "database not ready (attempt 1 of 2)" in done.stderr
    assert "could not be migrated after 2 attempts" in done.stderr
    assert "pw-not-shown" not in done.stderr + done.stdout
    assert health.returncode == 1 and health.stdout.startswith("unhealthy:")
    assert "pw-not-shown" not in health.stdout


# --- helpers ------------------------------------------------------------------------------------


def _entrypoint(
    args: list[str],
    url: str,
    schema: str | None,
    cwd: Path,
    *,
    stdin: str | None = None,
    extra: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    return _run(["sh", str(ENTRYPOINT), *args], url, schema, cwd, stdin=stdin, extra=extra)


def _run(
    command: list[str],
    url: str,
    schema: str | None,
    cwd: Path,
    *,
    stdin: str | None = None,
    extra: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKER_")}
    # The virtual environment's tracker first on PATH, as in the image.
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.update(TRACKER_DATABASE_URL=url, TRACKER_LOG_LEVEL="WARNING", **(extra or {}))
    if schema:
        env["TRACKER_DATABASE_SCHEMA"] = schema
    return subprocess.run(
        command,
        env=env,
        cwd=cwd,
        input=stdin if stdin is not None else "",
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
