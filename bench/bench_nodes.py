#!/usr/bin/env python
"""Several nodes on one PostgreSQL store: how fast 1, 2 and 3 ``immex-gateway run`` processes drain the same batch.

For each node count a fresh database (on the machine's PostgreSQL, ``--pg``) receives the same ``--n`` sealed
export invoices, taken (archived, rows committed) by this script before any node starts, so every node starts
with the whole batch waiting for validation. Then the nodes are started at once and the batch is drained:
validation with both seals, normalisation, routing, delivery to a folder sink, every state change with its
audit row. The drain time runs from the first node's start (its heartbeat row) to the last ``forwarded``
transition (audit rows), both written by the nodes; process start-up before the first heartbeat (imports, the
schemas a node compiles before it joins) is not counted.

``--workers`` (default 1) is each node's ``[gateway] workers``: with 1, each node has one core, as if each ran
on a machine of its own, which is what the node count is meant to scale; with 2, one node alone already keeps
both of this machine's cores busy and the figure shows what a second node adds on the same machine.

Raw baseline in the same run: naive lxml XSD validation of the same files against SAT's unmodified schemas
(the figure the other benches use), so the ratios survive this shared machine's noise.
Usage: python bench/bench_nodes.py [--n 300] [--nodes 1 2 3] [--workers 1] [--pg postgresql://postgres@127.0.0.1:5432]
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_delivery import invoices  # noqa: E402

from gateway import logs  # noqa: E402
from gateway.app import Gateway, load_settings  # noqa: E402
from gateway.runner import RunStats, intake_once  # noqa: E402

CONFIG = """
[store]
url = "{url}"
[gateway]
data_dir = "var"
lease_ttl = "5s"
poll_interval = "0.5s"
workers = {workers}
[validation]
certificate_dirs = ["certs"]
[correlation]
wait_for = []
[logging]
level = "error"
[[source]]
name = "bench"
type = "folder"
path = "inbox"
stable_time = "0s"
[[sink]]
name = "inventory"
type = "folder"
path = "outbox"
"""


def naive_xsd_rate(files: list[bytes]) -> float:
    """Documents per second of parse + full official-schema validation (bench_cfdi.py's figure (b))."""
    from bench_cfdi import BENCH_SCHEMAS, hardened_parser, official_schema  # the same wrapper as bench_cfdi (b)
    from lxml import etree

    from gateway.kinds.cfdi.satfiles import default_root

    schema, _ = official_schema(default_root(), BENCH_SCHEMAS)
    parser = hardened_parser()
    sample = files[:min(len(files), 200)]
    start = time.perf_counter()
    for data in sample:
        schema.validate(etree.fromstring(data, parser))
    return len(sample) / (time.perf_counter() - start)


def prepare(root: Path, server: str, files: list[bytes], workers: int) -> tuple[Path, str]:
    """A workspace and a fresh database holding the batch as received documents (taken by this process)."""
    name = f"bench_nodes_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = f"{server}/{name}"
    (root / "inbox").mkdir(parents=True)
    (root / "certs").mkdir(exist_ok=True)
    config = root / "gateway.toml"
    config.write_text(CONFIG.format(url=url, workers=workers), encoding="utf-8")
    for i, data in enumerate(files):
        (root / "inbox" / f"f{i:05d}.xml").write_bytes(data)
    gw = Gateway(load_settings(config), actor="bench")
    try:
        stats = RunStats()
        for _ in range(50):  # a folder source takes a file once it has seen it stable
            intake_once(gw, stats)
            if stats.taken == len(files):
                break
            time.sleep(0.1)
        assert stats.taken == len(files), stats
    finally:
        gw.close()
    return config, url


def drain(config: Path, url: str, nodes: int, n: int) -> tuple[float, dict[str, int], dict[str, float]]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    processes = [subprocess.Popen([sys.executable, "-m", "gateway", "run", "-c", str(config)], cwd=ROOT,
                                  env={**env, "IMMEX_GATEWAY_NODE": f"bench-{i}"}, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL) for i in range(nodes)]
    try:
        with psycopg.connect(url, autocommit=True) as db:
            deadline = time.monotonic() + 600
            while time.monotonic() < deadline:
                done = db.execute("SELECT COUNT(*) FROM documents WHERE state IN ('forwarded', 'rejected')").fetchone()
                if done and done[0] >= n:
                    break
                time.sleep(0.2)
            else:
                raise SystemExit(f"{nodes} node(s) did not drain {n} documents in 600 s")
            first = db.execute("SELECT MIN(started_at) FROM nodes").fetchone()[0]
            last = db.execute("SELECT MAX(at) FROM audit WHERE to_state = 'forwarded'").fetchone()[0]
            shares = dict(db.execute("SELECT node, COUNT(*) FROM audit WHERE to_state = 'forwarded' "
                                     "GROUP BY node ORDER BY node").fetchall())
            backends = [r[0] for r in db.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                                                 "AND pid != pg_backend_pid()").fetchall()]
            cpu = {"nodes": sum(_cpu_seconds(p.pid) for p in processes),
                   "postgres": sum(_cpu_seconds(pid) for pid in backends)}
            rejected = db.execute("SELECT COUNT(*) FROM documents WHERE state = 'rejected'").fetchone()[0]
            if rejected:
                raise SystemExit(f"{rejected} documents rejected: the batch must pass")
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            process.wait(timeout=60)
    return (_stamp(last) - _stamp(first)).total_seconds(), shares, cpu


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far (Linux /proc), to say where the cores went."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _stamp(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--nodes", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--workers", type=int, default=1,
                        help="worker processes per node (default 1: each node one core, as one node per machine)")
    parser.add_argument("--pg", default=os.environ.get("IMMEX_TEST_PG", "postgresql://postgres@127.0.0.1:5432"))
    args = parser.parse_args()
    logs.configure("error", "console")
    with tempfile.TemporaryDirectory(prefix="bench-nodes-") as tmp:
        files = invoices(args.n, Path(tmp) / "gen")
        baseline = naive_xsd_rate(files)
        print(f"naive lxml XSD (SAT's schemas), 1 core: {baseline:8.1f} docs/s; {args.workers} worker(s) per node")
        times: dict[int, float] = {}
        for nodes in args.nodes:
            root = Path(tmp) / f"n{nodes}"
            root.mkdir()
            (root / "certs").mkdir()
            for cert in (Path(tmp) / "gen" / "certs").iterdir():
                (root / "certs" / cert.name).write_bytes(cert.read_bytes())
            config, url = prepare(root, args.pg, files, args.workers)
            seconds, shares, cpu = drain(config, url, nodes, args.n)
            times[nodes] = seconds
            speedup = times[args.nodes[0]] / seconds
            print(f"{nodes} node(s): drained {args.n} in {seconds:6.2f} s = {args.n / seconds:7.1f} docs/s "
                  f"({args.n / seconds / baseline:4.2f}x naive XSD; {speedup:4.2f}x {args.nodes[0]} node) "
                  f"forwarded per node: {shares}; CPU s: nodes {cpu['nodes']:.1f} (start-up included), "
                  f"PostgreSQL {cpu['postgres']:.1f}")
            with psycopg.connect(f"{args.pg}/postgres", autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
