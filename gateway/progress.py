"""Progress of long work on one terminal line (done/total, rate, time left) — only for a person watching.

When the stream is not a terminal (a pipe, a file, journald, CI) nothing at all is written, so output that
machines read stays exactly as it was. The line is redrawn at most every ``interval`` seconds and erased by
``close``, so what the command prints afterwards starts on a clean line.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO


def is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # replaced or closed streams
        return False


class Progress:
    """``with Progress(total, "validando") as progress: … progress.advance()``"""

    def __init__(self, total: int, label: str, stream: TextIO | None = None, interval: float = 0.2) -> None:
        self.total = total
        self.label = label
        self.done = 0
        self.stream = stream if stream is not None else sys.stdout
        self.enabled = is_terminal(self.stream)
        self._interval = interval
        self._started = time.monotonic()
        self._base = 0  # items done before the rate's clock started
        self._drawn_at: float | None = None

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def advance(self, count: int = 1, total: int | None = None) -> None:
        """``count`` more items done; ``total`` when the work grew (a container's parts)."""
        self.done += count
        if total is not None:
            self.total = total
        self._draw()

    def update(self, done: int, total: int, label: str | None = None) -> None:
        """Absolute position (and the stage's label, when the work moves on to another stage)."""
        if label is not None and label != self.label:  # a new stage: its own rate, from its first item on
            self.label, self._started, self._base = label, time.monotonic(), done
        self.done, self.total = done, total
        self._draw()

    def _draw(self, force: bool = False) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if not force and self._drawn_at is not None and now - self._drawn_at < self._interval \
                and self.done < self.total:
            return
        self._drawn_at = now
        self.stream.write("\r\x1b[K" + self.line(now - self._started))
        self.stream.flush()

    def line(self, elapsed: float) -> str:
        """``validando 120/500 (24 %) · 35.2/s · faltan 0:11`` (Spanish first: operators read it)."""
        total = max(self.total, self.done)
        percent = f" ({100 * self.done // total} %)" if total else ""
        text = f"{self.label} {self.done}/{total}{percent}"
        if self.done > self._base and elapsed > 0:
            rate = (self.done - self._base) / elapsed
            text += f" · {rate:.1f}/s"
            if total > self.done:
                text += f" · faltan {_clock((total - self.done) / rate)}"
        return text

    def close(self) -> None:
        if self.enabled and self._drawn_at is not None:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
        self._drawn_at = None


def _clock(seconds: float) -> str:
    seconds = int(seconds + 0.5)
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


#: what ``runner.run_once`` reports, as an operator reads it
RUN_STAGES = {"take": "tomando archivos", "process": "procesando", "deliver": "entregando"}


def stage_reporter(progress: Progress, labels: dict[str, str] = RUN_STAGES) -> Callable[[str, int, int], None]:
    """A ``report(stage, done, total)`` callback that draws on ``progress`` (see gateway.runner.Report)."""
    def report(stage: str, done: int, total: int) -> None:
        progress.update(done, total, labels.get(stage, stage))

    return report
