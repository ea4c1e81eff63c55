"""The main loop: sources → intake → pipeline → outbox, once or until SIGTERM/SIGINT.

``--once`` takes what is present now (waiting only for files to become stable), drives
every document to a final or pending state, drains the outbox and returns. The long-
running mode wakes on filesystem events (watchdog) and also rescans every
``poll_interval``, because network filesystems drop events.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC

from gateway import answers, immex, intake, lease, logs, notify, pipeline
from gateway.correlation import correlate
from gateway.delivery import DeliveryLoop
from gateway.errors import GatewayError
from gateway.runtime import Runtime

log = logs.get("gateway.runner")


class LeaseHeld(GatewayError):
    """``run --once`` on a shared store while another node holds the pipeline's lease."""


#: ``report(stage, done, total)``: how far ``run_once`` is, for a progress line (take, process, deliver)
Report = Callable[[str, int, int], None]


@dataclass
class RunStats:
    taken: int = 0
    processed: int = 0
    delivery_attempts: int = 0
    errors: list[str] = field(default_factory=list)


def intake_once(gw: Runtime, stats: RunStats, report: Report | None = None) -> int:
    """One pass over every source. A failing source is logged and skipped; it never blocks the others."""
    taken, listed = 0, 0
    for source in gw.sources:
        try:
            items = source.poll()
        except Exception as exc:  # noqa: BLE001 - one broken source must not stop the rest
            log.error("source poll failed", source=source.name, error=str(exc))
            stats.errors.append(f"{source.name}: {exc}")
            gw.health.failed("source", source.name, str(exc))
            continue
        gw.health.ok("source", source.name)
        items = list(items)
        listed += len(items)
        for number, item in enumerate(items, start=listed - len(items) + 1):
            try:
                if intake.take(gw, source, item):
                    taken += 1
            except OSError as exc:
                log.error("intake failed, file left at source", source=source.name, file=item.name, error=str(exc))
                stats.errors.append(f"{source.name}/{item.name}: {exc}")
            if report is not None:
                report("take", number, listed)
    stats.taken += taken
    return taken


def _unstable_files(gw: Runtime) -> bool:
    return any(source.pending() for source in gw.sources)


def run_once(gw: Runtime, drain_timeout: float = 30.0, report: Report | None = None) -> RunStats:
    """Take what is there now, process, deliver, answer; on a shared store only while holding the lease."""
    if lease.shared(gw) and (holder := lease.holder_now(gw)) != gw.settings.node:
        raise LeaseHeld(f"el nodo {holder} procesa este almacén ahora / node {holder} is running the pipeline of this "
                        f"store (lease '{lease.NAME}')")
    heartbeat = lease.Heartbeat(gw).start()
    try:
        return _run_once(gw, drain_timeout, report)
    finally:
        heartbeat.stop()


def _run_once(gw: Runtime, drain_timeout: float, report: Report | None) -> RunStats:
    stats = RunStats()
    longest_stable = max((s.stable_time for s in gw.sources), default=0.0)
    deadline = time.monotonic() + max(5.0, longest_stable * 6)
    intake_once(gw, stats, report)
    while _unstable_files(gw) and time.monotonic() < deadline:
        time.sleep(max(0.05, longest_stable / 2))
        intake_once(gw, stats, report)
    deliveries = DeliveryLoop(gw).start()  # delivers what becomes ready while the rest is still processed
    try:
        stats.processed += pipeline.process_pending(
            gw, (lambda done, total: report("process", done, total)) if report else None)
        immex.resolve_timeouts(gw)
        correlate.resolve_timeouts(gw)
        deliveries.poke()
        drain_deadline = time.monotonic() + drain_timeout
        to_deliver = gw.store.pending_delivery_count()
        while (pending := gw.store.pending_delivery_count()) and time.monotonic() < drain_deadline \
                and deliveries.failed is None:
            if report is not None:
                to_deliver = max(to_deliver, pending)
                report("deliver", to_deliver - pending, to_deliver)
            time.sleep(min(0.2, max(0.02, _seconds_until(gw.store.next_delivery_at()))))
    finally:
        deliveries.stop()
    answers.run(gw)  # every file taken now has its verdict: tell the senders
    notify.run(gw, wait=True)
    stats.delivery_attempts += deliveries.attempts
    if deliveries.failed is not None:
        raise RuntimeError("delivery loop failed") from deliveries.failed
    return stats


def run_forever(gw: Runtime, stop: threading.Event | None = None) -> RunStats:
    stop = stop or threading.Event()
    wake = threading.Event()
    _install_signal_handlers(stop, wake)
    stats = RunStats()
    if not lease.wait_for_lease(gw, stop):  # a standby waits here until the active node falls silent
        return stats
    heartbeat = lease.Heartbeat(gw).start()
    observer = _watch_folders(gw, wake)
    log.info("gateway running", sources=[s.name for s in gw.sources], sinks=list(gw.sinks), node=gw.settings.node)
    deliveries = DeliveryLoop(gw).start()  # slow sinks never hold up intake and validation
    try:
        while not stop.is_set() and deliveries.failed is None:
            intake_once(gw, stats)
            processed = pipeline.process_pending(gw)
            immex.resolve_timeouts(gw)
            correlate.resolve_timeouts(gw)
            if processed:
                stats.processed += processed
            deliveries.poke()
            answers.run(gw)
            notify.run(gw)
            timeout = gw.settings.poll_interval
            if _unstable_files(gw):
                timeout = min(timeout, max(0.05, min(s.stable_time for s in gw.sources) / 2))
            wake.wait(timeout)
            wake.clear()
    finally:
        if observer is not None:
            observer.stop()
            observer.join(timeout=5)
        deliveries.stop()
        heartbeat.stop()
        stats.delivery_attempts += deliveries.attempts
        log.info("gateway stopped", taken=stats.taken, processed=stats.processed,
                 delivery_attempts=stats.delivery_attempts)
    if deliveries.failed is not None:
        raise RuntimeError("delivery loop failed") from deliveries.failed
    return stats


def _seconds_until(stamp: str | None) -> float:
    if not stamp:
        return 0.0
    from datetime import datetime

    target = datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    return (target - datetime.now(UTC)).total_seconds()


def _install_signal_handlers(stop: threading.Event, wake: threading.Event) -> None:
    if threading.current_thread() is not threading.main_thread():
        return

    def handler(signum, frame):  # noqa: ANN001, ARG001
        log.info("stop requested", signal=signal.Signals(signum).name)
        stop.set()
        wake.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


def _watch_folders(gw: Runtime, wake: threading.Event):  # noqa: ANN202
    from watchdog.events import FileSystemEventHandler
    from watchdog.observers import Observer

    folders = [folder for folder in (s.watched_folder() for s in gw.sources) if folder is not None]
    if not folders:
        return None

    class Wake(FileSystemEventHandler):
        def on_any_event(self, event):  # noqa: ANN001, ANN202
            wake.set()

    observer = Observer()
    for folder in folders:
        observer.schedule(Wake(), str(folder.path), recursive=folder.recursive)
    observer.start()
    return observer
