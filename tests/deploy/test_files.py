"""deploy/ holds what its README promises: a compose file that parses and names only files that
exist, an image that runs unprivileged with a health check, a settings example that documents
exactly the settings the code reads, and a systemd unit that systemd itself accepts."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tracker.config import Settings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
#: Variables deploy/ reads besides the Settings fields: where each is used.
DEPLOY_ONLY = {
    "TRACKER_PUBLIC_HOST": "compose.yaml",
    "TRACKER_MIGRATE_ATTEMPTS": "entrypoint.sh",
    "TRACKER_MIGRATE_DELAY": "entrypoint.sh",
}
_ASSIGNMENT = re.compile(r"^#?\s?([A-Z][A-Z0-9_]*)=(.*)$")


def compose() -> dict[str, Any]:
    loaded = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


# --- compose ------------------------------------------------------------------------------------


def test_the_compose_file_runs_the_bot_after_a_healthy_postgresql_with_its_data_on_a_volume() -> (
    None
):
    services = compose()["services"]

    postgres, bot = services["postgres"], services["bot"]
    assert postgres["image"] == "postgres:15"
    assert "pgdata:/var/lib/postgresql/data" in postgres["volumes"]
    assert "pgdata" in compose()["volumes"]
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    assert bot["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert "tracker-healthcheck" in " ".join(bot["healthcheck"]["test"])
    assert bot["env_file"] == ".env"
    assert bot["environment"]["TRACKER_DATABASE_URL"].startswith("postgresql+psycopg://")
    assert "@postgres:5432/" in bot["environment"]["TRACKER_DATABASE_URL"]
    assert bot["command"] == ["bot"]
    assert all(service.get("restart") == "unless-stopped" for service in services.values())


def test_every_file_the_compose_file_names_exists() -> None:
    named: list[Path] = []
    for service in compose()["services"].values():
        build = service.get("build")
        if build:
            context = DEPLOY / build["context"]
            named += [context, context / build["dockerfile"]]
        env_file = service.get("env_file")
        for name in [env_file] if isinstance(env_file, str) else env_file or []:
            # .env holds the secrets and is never committed: it is made from .env.example.
            named.append(DEPLOY / (name + ".example" if name == ".env" else name))
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if source.startswith((".", "/")):
                named.append(DEPLOY / source)
            else:
                assert source in compose()["volumes"], f"volume {source!r} is not declared"

    missing = [str(path.relative_to(ROOT)) for path in named if not path.exists()]
    assert named and missing == []


def test_the_image_installs_the_package_and_runs_unprivileged_with_a_health_check() -> None:
    dockerfile = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    instructions = _instructions(dockerfile)

    assert instructions[0] == ("FROM", "python:3.11-slim")
    assert ("RUN", "pip install . && rm -rf build ./*.egg-info") in instructions
    users = [arg for op, arg in instructions if op == "USER"]
    assert users and users[-1] not in ("root", "0")
    assert any(op == "HEALTHCHECK" for op, _ in instructions)
    assert ("ENTRYPOINT", '["tracker-entrypoint"]') in instructions


def test_everything_the_image_copies_exists_and_is_let_through_by_the_dockerignore() -> None:
    instructions = _instructions((DEPLOY / "Dockerfile").read_text(encoding="utf-8"))
    sources = [arg.split()[0] for op, arg in instructions if op == "COPY"]
    sources += [s for op, arg in instructions if op == "COPY" for s in arg.split()[1:-1]]
    allowed = [
        line[1:].rstrip("/")
        for line in (DEPLOY / "Dockerfile.dockerignore").read_text().splitlines()
        if line.startswith("!")
    ]

    assert sources
    for source in sources:
        assert (ROOT / source).exists(), f"COPY {source}: no such file"
        assert any(source == a or source.startswith(a + "/") for a in allowed), source


# --- settings -----------------------------------------------------------------------------------


def test_the_settings_example_documents_every_setting_the_code_reads_and_no_other() -> None:
    lines = (DEPLOY / ".env.example").read_text(encoding="utf-8").splitlines()
    documented = {m.group(1) for line in lines if (m := _ASSIGNMENT.match(line))}
    read_by_code = {f"TRACKER_{name.upper()}" for name in Settings.model_fields}

    assert read_by_code - documented == set()
    extra = {name for name in documented - read_by_code if name.startswith("TRACKER_")}
    assert extra == set(DEPLOY_ONLY)
    for name, user in DEPLOY_ONLY.items():
        assert name in (DEPLOY / user).read_text(encoding="utf-8"), f"{user} does not use {name}"


def test_every_setting_in_the_example_comes_with_an_explanation() -> None:
    lines = (DEPLOY / ".env.example").read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines):
        if not _ASSIGNMENT.match(line):
            continue
        above = number - 1
        while above >= 0 and _ASSIGNMENT.match(lines[above]):
            above -= 1  # settings documented together (TRACKER_WEBHOOK_LISTEN and _PORT)
        assert above >= 0 and lines[above].startswith("# ") and len(lines[above]) > 10, line


def test_the_settings_example_as_it_stands_is_a_valid_configuration(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in [n for n in os.environ if n.startswith("TRACKER_")]:
        monkeypatch.delenv(name)
    for line in (DEPLOY / ".env.example").read_text(encoding="utf-8").splitlines():
        if not line.startswith("#") and "=" in line:
            name, value = line.split("=", 1)
            monkeypatch.setenv(name, value)

    settings = Settings()

    assert settings.telegram_token is None  # TRACKER_TELEGRAM_TOKEN= means "not set"
    assert settings.users == {}
    assert settings.database_url == "sqlite:///tracker.db"


# --- systemd ------------------------------------------------------------------------------------


def test_the_systemd_unit_migrates_before_it_runs_the_bot_and_is_hardened() -> None:
    unit = _unit_settings((DEPLOY / "tracker.service").read_text(encoding="utf-8"))

    tracker = "/opt/treaty-tracker/.venv/bin/tracker"
    assert unit["ExecStartPre"] == [f"{tracker} db upgrade", f"{tracker} init"]
    assert unit["ExecStart"] == [f"{tracker} bot"]
    assert unit["Restart"] == ["on-failure"]
    assert unit["User"] == ["tracker"] and unit["WorkingDirectory"]
    assert unit["EnvironmentFile"] == ["/etc/treaty-tracker/tracker.env"]
    for hardening in ("NoNewPrivileges", "PrivateTmp", "ProtectHome", "RestrictSUIDSGID"):
        assert unit[hardening] == ["yes"], hardening
    assert unit["ProtectSystem"] == ["strict"]


def test_systemd_accepts_the_unit(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed on this machine (a missing tool)")
    # Verify checks that the programs exist: point the unit at this checkout's tracker.
    here = Path(sys.executable).parent
    if not (here / "tracker").exists():
        pytest.skip(f"no tracker executable beside {sys.executable} to point the unit at")
    text = (DEPLOY / "tracker.service").read_text(encoding="utf-8")
    unit = tmp_path / "treaty-tracker.service"
    unit.write_text(text.replace("/opt/treaty-tracker/.venv/bin", str(here)), encoding="utf-8")

    done = subprocess.run(
        [analyze, "verify", str(unit)], capture_output=True, text=True, timeout=60, check=False
    )

    complaints = [line for line in (done.stdout + done.stderr).splitlines() if unit.name in line]
    assert done.returncode == 0 and complaints == [], done.stdout + done.stderr


# --- helpers ------------------------------------------------------------------------------------


def _instructions(dockerfile: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    joined = re.sub(r"\\\n\s*", " ", dockerfile)
    result = []
    for line in joined.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            op, _, rest = stripped.partition(" ")
            result.append((op.upper(), " ".join(rest.split())))
    return result


def _unit_settings(text: str) -> dict[str, list[str]]:
    settings: dict[str, list[str]] = {}
    for line in text.splitlines():
        if "=" in line and not line.startswith(("#", ";", "[")):
            key, value = line.split("=", 1)
            settings.setdefault(key.strip(), []).append(value.strip())
    return settings
