"""The delivery loop: a thread that drains the outbox so the pipeline never waits on a slow sink.

The loop owns its own store connection (SQLite connections are per thread). It reads due
deliveries, prepares them, hands the network part to a pool of worker threads — at most
``concurrency`` in flight per sink — and commits each outcome itself. A sink that hangs
until its timeout occupies only its own slots; intake and validation go on meanwhile.

Order: ``due_deliveries`` never returns a delivery while an earlier one of the same group
(business key: one pedimento, one UUID; or the container file of a part) is still pending for
that sink, so a group goes out one document at a time, in the order it became ready, while
different groups go out in parallel.
"""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from datetime import UTC, datetime

from gateway import lease, logs, outbox
from gateway.config import Settings
from gateway.errors import StoreConflict, StoreUnavailable
from gateway.ports import Sink, SinkError
from gateway.runtime import Runtime
from gateway.store import lock_keys
from gateway.store.base import Delivery, now

log = logs.get("gateway.delivery")

IDLE_WAIT = 0.5  # seconds between looks at the outbox when nothing is in flight and nothing was poked
SHARED_TURN = 32  # deliveries a node claims per turn when several nodes share the outbox


class DeliveryLoop:
    """Start with ``start()``, wake with ``poke()`` when documents became ready, end with ``stop()``."""

    def __init__(self, gw: Runtime) -> None:
        self._gw = gw
        self._settings: Settings = gw.settings
        self._sinks: dict[str, Sink] = gw.sinks  # built (and checked) by the caller, shared: sinks are thread-safe
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.attempts = 0
        self.failed: BaseException | None = None
        self._node = gw.settings.node
        self._shared = lease.shared(gw)

    def start(self) -> DeliveryLoop:
        self._thread = threading.Thread(target=self._run, name="delivery", daemon=True)
        self._thread.start()
        return self

    def poke(self) -> None:
        self._wake.set()

    def stop(self, timeout: float | None = None) -> None:
        """No new attempts; those in flight finish (bounded by the sinks' timeouts) and are recorded."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        ctx = self._gw.fork()  # the same gateway, with a store connection of this thread's own
        slots = sum(c.concurrency for c in self._settings.sinks) or 1
        pool = ThreadPoolExecutor(max_workers=slots, thread_name_prefix="deliver")
        in_flight: dict[Future[list[SinkError | None]], list[outbox.Job]] = {}
        try:
            while True:
                try:
                    if self._turn(ctx, pool, in_flight):
                        return
                except StoreUnavailable as exc:  # whichever call met it: wait, reconnect, go on
                    self._outage(ctx, exc, in_flight)
                except StoreConflict as exc:  # rolled back: the outcomes stay in flight, recorded next turn
                    log.info("delivery outcomes met another writer; recorded again", error=str(exc))
        except BaseException as exc:  # noqa: BLE001 - reported to the runner, which stops the process loudly
            log.exception("delivery loop failed")
            self.failed = exc
        finally:
            pool.shutdown(wait=True)
            ctx.close()

    def _turn(self, ctx: Runtime, pool: ThreadPoolExecutor,
              in_flight: dict[Future[list[SinkError | None]], list[outbox.Job]]) -> bool:
        """Start what is due, wait for an outcome, record what arrived; True when stopped with nothing in flight."""
        if not self._stop.is_set():
            self._dispatch(ctx, pool, in_flight)
        if not in_flight:
            if self._stop.is_set():
                return True
            self._wake.wait(self._idle_wait(ctx))
            self._wake.clear()
            return False
        done, _ = wait(list(in_flight), timeout=IDLE_WAIT, return_when=FIRST_COMPLETED)
        attempts = 0
        arrived = [(future, in_flight[future]) for future in done]
        keys = [lock_keys.document(j.delivery.document_id) for _, jobs in arrived for j in jobs]
        # outcomes that arrived together share one commit (one fsync); they touch their own documents only
        with ctx.store.transaction(keys):
            for future, jobs in arrived:
                for job, failure in zip(jobs, future.result(), strict=True):
                    outbox.record(ctx, job, failure)
                attempts += len(jobs)
                if self._shared:  # the outcome is recorded: any node may take the row from here
                    ctx.store.release_claims([_claim(j) for j in jobs], self._node)
        for future, _ in arrived:
            del in_flight[future]
        with self._lock:
            self.attempts += attempts
        return False

    def _outage(self, ctx: Runtime, exc: StoreUnavailable,
                in_flight: dict[Future[list[SinkError | None]], list[outbox.Job]]) -> None:
        """The database went away: the attempts in flight finish but are not recorded (their rows stay pending
        and their claims expire, so they are attempted again: sinks are idempotent by document id)."""
        log.error("store unreachable; deliveries wait for it", node=self._node, error=str(exc))
        wait(list(in_flight))
        in_flight.clear()
        while not self._stop.wait(1.0):
            try:
                ctx.store.reconnect()
                log.info("store reachable again; deliveries resume", node=self._node)
                return
            except StoreUnavailable as again:
                log.warning("store still unreachable", node=self._node, error=str(again))

    def _dispatch(self, ctx: Runtime, pool: ThreadPoolExecutor,
                  in_flight: dict[Future[list[SinkError | None]], list[outbox.Job]]) -> None:
        """Start what is due, within each sink's limit of requests in flight (a batch is one request)."""
        busy = {(j.delivery.document_id, j.delivery.sink) for jobs in in_flight.values() for j in jobs}
        requests = Counter(jobs[0].delivery.sink for jobs in in_flight.values())
        room = {c.name: max(0, c.concurrency - requests[c.name]) * _batch_size(self._sinks.get(c.name))
                for c in self._settings.sinks}
        if not any(room.values()):
            return
        ready: dict[str, list[outbox.Job]] = {}
        limit = sum(room.values())
        if self._shared:  # a share of the queue at a time, so that every node's delivery thread has work
            limit = min(limit, SHARED_TURN)
        due = [d for d in ctx.store.due_deliveries(now(), limit=limit + len(busy),
                                                   node=self._node if self._shared else None)
               if (d.document_id, d.sink) not in busy]
        if self._shared:  # several nodes: attempt only what this node claimed (a node never delivers twice)
            claimed = set(ctx.store.claim_deliveries([(d.document_id, d.sink, d.attempts) for d in due], self._node,
                                                     self._settings.lease_ttl))
            due = [d for d in due if _claim(d) in claimed]
        for delivery in due:
            if room.get(delivery.sink, 1) <= 0:
                if self._shared:
                    ctx.store.release_claims([_claim(delivery)], self._node)
                continue
            job = outbox.prepare(ctx, delivery)
            if job is None:
                if self._shared:
                    ctx.store.release_claims([_claim(delivery)], self._node)
                continue
            ready.setdefault(delivery.sink, []).append(job)
            room[delivery.sink] = room.get(delivery.sink, 1) - 1
        for sink_name, jobs in ready.items():
            size = _batch_size(self._sinks.get(sink_name))
            for i in range(0, len(jobs), size):
                chunk = jobs[i:i + size]
                in_flight[pool.submit(outbox.attempt_many, chunk)] = chunk

    @staticmethod
    def _idle_wait(ctx: Runtime) -> float:
        stamp = ctx.store.next_delivery_at()
        if not stamp:
            return IDLE_WAIT
        due = datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
        seconds = (due - datetime.now(UTC)).total_seconds()
        # already due but not dispatched: it waits behind an earlier delivery of its group
        return IDLE_WAIT if seconds <= 0 else min(IDLE_WAIT, max(0.01, seconds))


def _claim(delivery: Delivery | outbox.Job) -> str:
    """The claim key of one (document, sink) attempt (``gateway/store/node_queries.py``)."""
    row = delivery.delivery if isinstance(delivery, outbox.Job) else delivery
    return f"out:{row.document_id}:{row.sink}"


def _batch_size(sink: Sink | None) -> int:
    """Documents per request: more than one only for a sink with a batch endpoint (``deliver_batch``)."""
    return 1 if sink is None else max(1, sink.batch_size)
