"""``make test`` on a bare machine: tools/system-packages.sh installs what is missing as root, else names it."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.conftest import REPO

SCRIPT = REPO / "tools" / "system-packages.sh"


def _run(root: Path, tmp_path: Path, as_root: str) -> tuple[subprocess.CompletedProcess, Path]:
    """Run the script against an empty system tree; apt-get is a recorder first on PATH (never the real one)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    calls = tmp_path / "apt-calls"
    apt = bin_dir / "apt-get"
    apt.write_text(f'#!/bin/sh\necho "$DEBIAN_FRONTEND $*" >> {calls}\n')
    apt.chmod(0o755)
    env = {**os.environ, "SYSTEM_ROOT": str(root), "SYSTEM_PACKAGES_AS_ROOT": as_root,
           "PATH": f"{bin_dir}:{os.environ['PATH']}"}
    result = subprocess.run(["bash", str(SCRIPT)], env=env, capture_output=True, text=True,
                            stdin=subprocess.DEVNULL, timeout=60)
    return result, calls


def test_this_machine_has_everything():
    result = subprocess.run(["bash", str(SCRIPT)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "" and result.stderr == ""


def test_not_root_one_line_with_the_exact_command(tmp_path):
    result, calls = _run(tmp_path / "empty", tmp_path, "0")
    assert result.returncode == 1  # without python3-venv nothing can run
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].endswith("run: sudo apt-get update && sudo apt-get install -y "
                             "python3-venv chromium fonts-dejavu-core openssh-server systemd")
    assert not calls.exists()


def test_root_installs_only_what_is_missing_without_questions(tmp_path):
    root = tmp_path / "sys"
    (root / "usr/sbin").mkdir(parents=True)
    (root / "usr/sbin/sshd").write_text("")
    (root / "usr/sbin/sshd").chmod(0o755)
    (root / "usr/lib/python3.11/ensurepip").mkdir(parents=True)
    result, calls = _run(root, tmp_path, "1")
    assert result.returncode == 0, result.stderr
    assert calls.read_text().splitlines() == [
        "noninteractive update -qq",
        "noninteractive install -y -qq chromium fonts-dejavu-core systemd",
    ]


def test_make_test_and_ci_run_use_it():
    makefile = (REPO / "Makefile").read_text()
    recipe = makefile.split("\ntest:", 1)[1].split("\n\n", 1)[0]
    assert recipe.index("tools/system-packages.sh") < recipe.index("pytest")
    ci = [line for line in (REPO / ".ci/run").read_text().splitlines() if line and not line.startswith("#")]
    assert ci[-1] == "exec make test"
    assert not any("apt-get" in line for line in ci)


def test_not_root_without_browser_the_suite_still_runs(tmp_path):
    root = tmp_path / "sys"
    (root / "usr/lib/python3.11/ensurepip").mkdir(parents=True)
    result, calls = _run(root, tmp_path, "0")
    assert result.returncode == 0  # make goes on to the suite; the line says what to install
    assert result.stderr.strip().endswith("sudo apt-get install -y chromium fonts-dejavu-core openssh-server systemd")
    assert not calls.exists()
