"""Run the real CLI on a pseudo-terminal, as a person at a terminal would (prompts, progress lines)."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time

from tests.conftest import REPO


def run_in_pty(*args: str, answers: str = "", timeout: float = 300, cwd: str | None = None) -> tuple[int, str]:
    """``python -m gateway ARGS`` with stdin, stdout and stderr on one pty; ``answers`` is typed in at once.

    Returns the exit code and everything the terminal showed (echoed answers included, \\r\\n line ends).
    """
    master, slave = pty.openpty()
    env = {**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "120", "TERM": "xterm"}
    proc = subprocess.Popen([sys.executable, "-m", "gateway", *args], stdin=slave, stdout=slave, stderr=slave,
                            env=env, cwd=cwd or REPO, close_fds=True)
    os.close(slave)
    if answers:
        os.write(master, answers.encode())
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    data = os.read(master, 65536)
                except OSError:  # EIO: every copy of the slave side is closed (the process ended)
                    break
                if not data:
                    break
                chunks.append(data)
            elif proc.poll() is not None:
                break
        code = proc.wait(timeout=max(1.0, deadline - time.monotonic()))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
    return code, b"".join(chunks).decode("utf-8", errors="replace")
