"""The deployment files: the systemd unit passes `systemd-analyze verify`, the image's
health check judges a real run's status file, and the container builds and runs headless
offline where a Docker daemon and the base image are at hand (skipped, with the reason,
where they are not)."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.kit.ctl import wait_status
from tests.kit.process import POLYTERM, environ

pytestmark = pytest.mark.integration

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
BASE_IMAGE = "python:3.11-slim"


def _healthcheck(dockerfile: str, status: Path) -> list[str]:
    """The image's HEALTHCHECK command, aimed at `status` instead of /data/status.json."""
    match = re.search(r"HEALTHCHECK [^\[]*CMD \\\s*\n\s*(\[.*\])", dockerfile)
    assert match is not None, "no exec-form HEALTHCHECK in the Dockerfile"
    command: list[str] = json.loads(match.group(1))
    assert command[0] == "python"
    return [sys.executable, *(a.replace("/data/status.json", str(status)) for a in command[1:])]


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze here")
def test_the_systemd_unit_verifies_clean(tmp_path: Path) -> None:
    text = (DEPLOY / "polyterm.service").read_text()
    assert "Type=notify" in text
    assert re.search(r"^WatchdogSec=\d+", text, re.MULTILINE)
    polyterm = Path(sys.executable).with_name("polyterm")
    unit = tmp_path / "polyterm.service"
    unit.write_text(text.replace("/usr/local/bin/polyterm", str(polyterm)))
    done = subprocess.run(
        ["systemd-analyze", "verify", str(unit)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    # verify only warns (exit 0) about an unknown key: a clean unit prints nothing.
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""


def test_the_images_health_check_follows_a_real_runs_status_file(tmp_path: Path) -> None:
    status = tmp_path / "status.json"
    check = _healthcheck((DEPLOY / "Dockerfile").read_text(), status)
    env = environ(tmp_path, POLYTERM_RUNTIME_DIR=str(tmp_path / "run"))
    proc = subprocess.Popen(
        [*POLYTERM, "--no-ui", "--status-file", str(status)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_status(env, lambda s: s["state"] == "running")
        assert subprocess.run(check, timeout=30, check=False).returncode == 0
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=30)
    # Stopped is not healthy; neither is a file nobody rewrote for a while.
    assert subprocess.run(check, timeout=30, check=False).returncode == 1
    summary = json.loads(status.read_text())
    summary["state"] = "running"
    status.write_text(json.dumps(summary))
    stale = time.time() - 120
    os.utime(status, (stale, stale))
    assert subprocess.run(check, timeout=30, check=False).returncode == 1


def _docker_unavailable() -> str | None:
    if shutil.which("docker") is None:
        return "no docker client"
    info = subprocess.run(["docker", "info"], capture_output=True, text=True, check=False)
    if info.returncode != 0:
        return (
            "docker info fails (no daemon here): " + (info.stderr.strip().splitlines() or [""])[-1]
        )
    image = subprocess.run(
        ["docker", "image", "inspect", BASE_IMAGE], capture_output=True, check=False
    )
    if image.returncode != 0:
        return f"the base image {BASE_IMAGE} is not local (no registry of images here)"
    return None


def test_the_container_builds_and_runs_headless_offline() -> None:
    why = _docker_unavailable()
    if why is not None:
        pytest.skip(why)
    root = DEPLOY.parent
    tag = "polyterm-test:latest"
    build = subprocess.run(
        ["docker", "build", "-f", str(DEPLOY / "Dockerfile"), "-t", tag, str(root)],
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    assert build.returncode == 0, build.stderr[-3000:]
    try:
        run = subprocess.run(
            ["docker", "run", "--rm", "--network", "none", tag]
            + ["--no-ui", "--json", "--duration", "8"],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert run.returncode == 0, run.stderr[-3000:]
        summary = json.loads(run.stdout.strip().splitlines()[-1])
        assert summary["venue"] == "emulator"
        assert summary["ledger"] == "/data/ledger.sqlite"
        user = subprocess.run(
            ["docker", "run", "--rm", "--entrypoint", "id", tag, "-u"],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert user.stdout.strip() != "0"  # not root
    finally:
        subprocess.run(["docker", "image", "rm", "-f", tag], capture_output=True, check=False)
