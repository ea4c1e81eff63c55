#!/usr/bin/env python
"""Correlation throughput and latency: pedimento ⇄ COVE groups checked, against the same pipeline without it.

  (a) raw: the same documents through the pipeline (archive, row, validate, normalise, ready) with correlation
      switched off, in the same process and store settings: the baseline
  (b) with correlation: keys stored, pieces pending, each group checked when its last piece arrives
  (c) check_group alone: the XDOC checks of a complete group on records in memory (no store)
  latency: from handing the last piece of a group to the pipeline to the group's verdict being committed

Each group is an IN pedimento (in its own M file) declaring two COVEs: one ConsultarEdocument answer and one
RecibirCove request + ConsultarRespuestaCove answer, so 5 documents (M file, pedimento, 3 COVE messages).
The pieces of every group arrive shuffled. Usage: python bench/bench_correlation.py [--groups 100]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gateway import intake, logs, pipeline  # noqa: E402
from gateway.app import Gateway  # noqa: E402
from gateway.config import Tolerances, load  # noqa: E402
from gateway.correlation import correlate  # noqa: E402
from gateway.correlation.checks import Member, check_group  # noqa: E402
from gateway.demo.correlation_workspace import correlation_config  # noqa: E402
from gateway.demo.scenario import import_with_two_coves  # noqa: E402
from gateway.store.base import now  # noqa: E402


def take(gw, name: str, data: bytes) -> None:  # noqa: ANN001
    sha256, size = gw.archive.put_bytes(data)
    with gw.store.transaction():
        document_id = intake.record(gw, "broker-drop", name, sha256, size, "auto")
        gw.store.update_fields(document_id, source_acked_at=now())


def build(groups: int, seed: int) -> list[list[tuple[str, bytes]]]:
    rnd = random.Random(seed)
    plans = []
    for seq in range(1, groups + 1):
        files = [(f"{seq}-{name}", data) for name, data in import_with_two_coves(seq=seq).files.items()]
        rnd.shuffle(files)
        plans.append(files)
    return plans


def run(plans: list[list[tuple[str, bytes]]], correlation: bool) -> tuple[float, int, tuple, object]:
    """Seconds spent, documents processed, (latencies, time in correlate.route) of each group's last piece."""
    original = correlate.route
    route_times: list[float] = []

    def timed_route(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        start = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            route_times.append(time.perf_counter() - start)

    correlate.route = timed_route if correlation else (lambda *args, **kwargs: None)  # off: straight to ready
    latencies: list[float] = []
    settle: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "gateway.toml"
        config.write_text(correlation_config(), encoding="utf-8")
        gw = Gateway(load(config), actor="bench")
        gw.kinds.get("cove").schemas  # compile outside the timing  # noqa: B018
        processed = 0
        try:
            started = time.perf_counter()
            for files in plans:
                for index, (name, data) in enumerate(files):
                    take(gw, name, data)
                    before = time.perf_counter()
                    route_times.clear()
                    processed += pipeline.process_pending(gw)
                    if index == len(files) - 1:
                        latencies.append(time.perf_counter() - before)
                        settle.append(sum(route_times))
            elapsed = time.perf_counter() - started
            states = gw.store.counts_by_state()
        finally:
            gw.close()
            correlate.route = original
    return elapsed, processed, (latencies, settle), states


def members_of(plans: list[list[tuple[str, bytes]]]) -> list[list[Member]]:
    """The normalised records of each group, as the engine hands them to check_group."""
    from gateway.kinds import KindRegistry

    registry = KindRegistry()
    groups = []
    for files in plans:
        members = []
        for name, data in files:
            kind_name = registry.detect(data, name.split("-", 1)[1])
            result = registry.get(kind_name).check(data)
            if result.parts is not None:
                for part in result.parts:
                    sub = registry.get(part.kind).check(part.data)
                    members.append(Member(name + "#1", part.kind, sub.record))
            else:
                members.append(Member(name, kind_name, result.record))
        groups.append(members)
    return groups


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--groups", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    logs.configure("warning", "console")
    plans = build(args.groups, args.seed)
    raw_s, raw_docs, _, raw_states = run(plans, correlation=False)
    cor_s, cor_docs, (latencies, settle), cor_states = run(plans, correlation=True)
    expected = {"split": args.groups, "ready": args.groups * 4}
    for label, states in (("raw", raw_states), ("correlation", cor_states)):
        if states != expected:
            print(f"{label}: unexpected final states {states} (expected {expected})", file=sys.stderr)
            return 1
    groups = members_of(plans)
    started = time.perf_counter()
    rounds = 5
    for _ in range(rounds):
        for members in groups:
            verdict = check_group(members, Tolerances())
            assert not any(verdict.findings.values()), verdict.findings
    check_s = (time.perf_counter() - started) / rounds
    ms = sorted(x * 1000 for x in latencies)
    route_ms = sorted(x * 1000 for x in settle)
    print(f"{args.groups} groups × 5 documents (M file, pedimento, 3 COVE messages), pieces shuffled\n")
    print(f"{'figure':52} {'docs/s':>8} {'groups/s':>9}")
    print(f"{'(a) raw pipeline, correlation off (baseline)':52} {raw_docs / raw_s:8.1f} {args.groups / raw_s:9.1f}")
    print(f"{'(b) pipeline with correlation':52} {cor_docs / cor_s:8.1f} {args.groups / cor_s:9.1f}")
    print(f"{'(c) check_group only, records in memory':52} {'':>8} {len(groups) / check_s:9.1f}")
    print(f"\nratio b/a = {raw_s / cor_s:.2f}   (correlation costs {100 * (cor_s / raw_s - 1):.0f} % more wall time)")
    print(f"latency, last piece handed to the pipeline → verdict committed (ms): p50 {statistics.median(ms):.1f}  "
          f"p95 {ms[int(0.95 * (len(ms) - 1))]:.1f}  max {ms[-1]:.1f}")
    print(f"  of which correlate.route (keys, group walk, checks, verdict rows; not the commit) (ms): p50 "
          f"{statistics.median(route_ms):.1f}  p95 {route_ms[int(0.95 * (len(route_ms) - 1))]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
