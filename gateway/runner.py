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
from gateway.errors import StoreUnavailable
from gateway.kinds.base import Warms, implements
from gateway.ports import Source
from gateway.runtime import Runtime

log = logs.get("gateway.runner")


#: ``report(stage, done, total)``: how far ``run_once`` is, for a progress line (take, process, deliver)
Report = Callable[[str, int, int], None]


@dataclass
class RunStats:
    taken: int = 0
    processed: int = 0
    delivery_attempts: int = 0
    errors: list[str] = field(default_factory=list)


INTAKE_BATCH = 64  # files archived and recorded with one commit (the order of durability kept: intake.py)


def intake_once(gw: Runtime, stats: RunStats, report: Report | None = None,
                member: lease.Membership | None = None) -> int:
    """One pass over every source this node holds. A failing source is logged and skipped; it never blocks the
    others."""
    taken, listed = 0, 0
    for source in _held(gw, member):
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
        done = listed - len(items)
        for start in range(0, len(items), INTAKE_BATCH):  # group commit: two commits per batch of files
            batch = items[start:start + INTAKE_BATCH]
            taken += len(intake.take_many(gw, source, batch, stats.errors))
            done += len(batch)
            if report is not None:
                report("take", done, listed)
    stats.taken += taken
    return taken


def _held(gw: Runtime, member: lease.Membership | None) -> list[Source]:
    return [s for s in gw.sources if member is None or member.holds(s.name)]


def _unstable_files(gw: Runtime, member: lease.Membership | None = None) -> bool:
    return any(source.pending() for source in _held(gw, member))


def run_once(gw: Runtime, drain_timeout: float = 30.0, report: Report | None = None) -> RunStats:
    """Take what is there now, process, deliver, answer; on a shared store, the sources no other node polls."""
    member = lease.Membership(gw).start()
    try:
        for source in gw.settings.sources:
            if not member.holds(source.name):
                log.warning("source polled by another node; this run takes nothing from it", source=source.name,
                            node=gw.settings.node)
        return _run_once(gw, drain_timeout, report, member)
    finally:
        member.stop()


def _run_once(gw: Runtime, drain_timeout: float, report: Report | None, member: lease.Membership) -> RunStats:
    stats = RunStats()
    sync_catalogs(gw)
    longest_stable = max((s.stable_time for s in gw.sources), default=0.0)
    deadline = time.monotonic() + max(5.0, longest_stable * 6)
    taking = _starting_workers(gw, report)
    intake_once(gw, stats, taking, member)
    while _unstable_files(gw, member) and time.monotonic() < deadline:
        time.sleep(max(0.05, longest_stable / 2))
        intake_once(gw, stats, taking, member)
    deliveries = DeliveryLoop(gw).start()  # delivers what becomes ready while the rest is still processed
    try:
        stats.processed += pipeline.process_pending(
            gw, (lambda done, total: report("process", done, total)) if report else None)
        if member.coordinator:
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
    if member.coordinator:
        answers.run(gw)  # every file taken now has its verdict: tell the senders
        notify.run(gw, wait=True)
    stats.delivery_attempts += deliveries.attempts
    if deliveries.failed is not None:
        raise RuntimeError("delivery loop failed") from deliveries.failed
    return stats


def _starting_workers(gw: Runtime, report: Report | None) -> Report:
    """``report``, which also starts the worker processes as soon as the sources list enough files for them:
    their start-up (schemas, catalogs) overlaps the taking of the files, which mostly waits for the disk."""
    def taking(stage: str, done: int, total: int) -> None:
        if stage == "take" and total >= pipeline.POOL_MIN:
            pool = gw.workers()
            if pool is not None:
                pool.start()
        if report is not None:
            report(stage, done, total)
    return taking


def run_forever(gw: Runtime, stop: threading.Event | None = None) -> RunStats:
    stop = stop or threading.Event()
    wake = threading.Event()
    _install_signal_handlers(stop, wake)
    stats = RunStats()
    _warm(gw)
    member = _join(gw, stop)
    if member is None:
        return stats
    observer = _watch_folders(gw, wake)
    log.info("gateway running", sources=member.held(), sinks=list(gw.sinks), node=gw.settings.node)
    deliveries = DeliveryLoop(gw).start()  # slow sinks never hold up intake and validation
    outage = Outage(gw)
    try:
        while not stop.is_set() and deliveries.failed is None:
            try:
                _pass(gw, stats, member, deliveries)
                outage.over()
            except StoreUnavailable as exc:  # the database restarts or fails over: nothing in flight is lost
                outage.wait(exc, stop)
                continue
            timeout = gw.settings.poll_interval
            if _unstable_files(gw, member):
                timeout = min(timeout, max(0.05, min(s.stable_time for s in gw.sources) / 2))
            wake.wait(timeout)
            wake.clear()
    finally:
        if observer is not None:
            observer.stop()
            observer.join(timeout=5)
        deliveries.stop()
        member.stop()
        stats.delivery_attempts += deliveries.attempts
        log.info("gateway stopped", taken=stats.taken, processed=stats.processed,
                 delivery_attempts=stats.delivery_attempts)
    if deliveries.failed is not None:
        raise RuntimeError("delivery loop failed") from deliveries.failed
    return stats


def _pass(gw: Runtime, stats: RunStats, member: lease.Membership, deliveries: DeliveryLoop) -> None:
    """One turn of the loop: take from this node's sources, process what it claims, run the timers if it
    coordinates."""
    sync_catalogs(gw)
    intake_once(gw, stats, member=member)
    stats.processed += pipeline.process_pending(gw)
    if member.coordinator:
        immex.resolve_timeouts(gw)
        correlate.resolve_timeouts(gw)
    deliveries.poke()
    if member.coordinator:
        answers.run(gw)
        notify.run(gw)


def sync_catalogs(gw: Runtime) -> None:
    """Install the SAT catalog set another node imported (``gateway/kinds/satcatalogs/shared.py``); a folder that
    cannot be written is logged and the pass goes on with the catalogs in force (a store outage propagates)."""
    from gateway.kinds.satcatalogs import shared

    if gw.settings.catalogs_dir is None:
        return
    try:
        shared.sync(gw.store, gw.settings.catalogs_dir)
    except OSError as exc:
        log.error("catalogs from the store not installed", error=str(exc), folder=str(gw.settings.catalogs_dir))


def _warm(gw: Runtime) -> None:
    """Validators built before the node joins: a node that takes a share of the work is ready to do it (the
    first batch does not wait a second for a schema while the other nodes' share waits behind it)."""
    for name in gw.kinds.names():
        kind = gw.kinds.get(name)
        if implements(kind, Warms):
            kind.warm()


def _join(gw: Runtime, stop: threading.Event) -> lease.Membership | None:
    """This node's first heartbeat, retried with backoff while the database does not answer (None: stopped)."""
    outage = Outage(gw)
    while not stop.is_set():
        try:
            member = lease.Membership(gw).start()
            outage.over()
            return member
        except StoreUnavailable as exc:
            outage.wait(exc, stop)
    return None


class Outage:
    """A database that stopped answering: said once in the log, retried with growing waits (0.5 s … 30 s)."""

    def __init__(self, gw: Runtime) -> None:
        self.gw, self.since, self.tries = gw, 0.0, 0

    def wait(self, exc: StoreUnavailable, stop: threading.Event) -> None:
        if not self.tries:
            self.since = time.monotonic()
            log.error("store unreachable; retrying with backoff", node=self.gw.settings.node, error=str(exc))
        self.tries += 1
        stop.wait(min(30.0, 0.5 * 2 ** min(self.tries - 1, 6)))
        try:
            self.gw.store.reconnect()
        except StoreUnavailable as again:
            log.warning("store still unreachable", node=self.gw.settings.node, tries=self.tries, error=str(again))

    def over(self) -> None:
        if self.tries:
            log.info("store reachable again", node=self.gw.settings.node,
                     seconds=round(time.monotonic() - self.since, 1), tries=self.tries)
        self.tries = 0


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
