"""Send the hostile corpus through ``validate --json`` and part of it through ``run --once`` (issue 20).

Each input gets its own process, limited to 60 s and 1 GB of address space (``RLIMIT_AS``, as
``ulimit -v``): ``validate`` runs in a child forked from a warmed-up parent (imports and kinds, with their
compiled schemas, built once, so 1,500 processes take minutes, not hours); ``run --once`` runs as
``python -m gateway`` on workspaces of ``--batch`` inputs each. Counted per input:

- crash: a traceback, an exit code other than 0/1, output that is not JSON, or a signal;
- timeout: killed at 60 s; memory: a MemoryError or an allocation refused under the 1 GB limit;
- lost (run --once): a file gone from the inbox with no document row, or left in the inbox;
- wrong acceptance: an input the manifest says must be rejected came out valid (or forwarded with
  nothing rejected);
- internal: the last-resort guard answered with an INTERNAL finding (no crash, but a defect to fix).

    python bench/hostile/run.py CORPUS_DIR [--code REPO] [--run-every 4] [--batch 15] [--out report.json]

``--code`` runs another checkout of the gateway (e.g. ``git archive main``) for a before/after.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

LIMIT_SECONDS = 60
LIMIT_BYTES = 1024 ** 3


def _config(root: Path, corpus: Path, sources: str = "") -> Path:
    config = root / "gateway.toml"
    config.write_text(f"""
[gateway]
data_dir = "var"
[logging]
level = "error"
format = "json"
[erp]
mapping_dirs = ["{corpus / 'mappings'}"]
{sources}
[[sink]]
name = "out"
type = "folder"
path = "outbox"
""", encoding="utf-8")
    return config


def _use_code(code: Path) -> None:
    """Import the gateway from ``code``, not from the checkout the virtualenv installed in editable mode."""
    sys.meta_path[:] = [f for f in sys.meta_path if not getattr(f, "__module__", "").startswith("__editable__")]
    sys.path.insert(0, str(code))


_BOOT = ("import sys, runpy; sys.meta_path[:] = [f for f in sys.meta_path if not getattr(f, '__module__', '')"
         ".startswith('__editable__')]; sys.path.insert(0, sys.argv.pop(1)); sys.argv[0] = 'gateway'; "
         "runpy.run_module('gateway', run_name='__main__')")


def _limit() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (LIMIT_BYTES, LIMIT_BYTES))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


# validate --json, one forked child per input ----------------------------------------------------------

def validate_all(corpus: Path, manifest: list[dict[str, Any]], work: Path) -> list[dict[str, Any]]:
    from gateway import cli

    _share_kinds()
    config = _config(work, corpus)
    warm = corpus / manifest[0]["path"]
    _child(lambda: cli.main(["validate", "--json", "-c", str(config), str(warm)]), work / "warm")  # imports
    results = []
    for n, item in enumerate(manifest):
        argv = ["validate", "--json", "-c", str(config), "--kind", item["kind"], "--", str(corpus / item["path"])]
        outcome = _child(lambda argv=argv: cli.main(argv), work / "child")
        outcome.update(_judge_validate(item, outcome))
        results.append({**item, **outcome})
        if (n + 1) % 100 == 0:
            print(f"  validate: {n + 1}/{len(manifest)}", file=sys.stderr, flush=True)
    return results


def _share_kinds() -> None:
    """Kinds built once in the parent and inherited by every child: ``validate`` compiles the CFDI schemas per
    process (seconds on a loaded machine); the verdicts are the same, the run takes minutes instead of hours."""
    from gateway.kinds import KindRegistry

    built: dict[str, Any] = {}
    get = KindRegistry.get

    def shared(self: Any, name: str) -> Any:
        if name.startswith("erp:"):
            return get(self, name)
        if name not in built:
            built[name] = get(self, name)
        return built[name]

    KindRegistry.get = shared  # type: ignore[method-assign]


def _child(call: Any, base: Path) -> dict[str, Any]:
    out, err = base.with_suffix(".out"), base.with_suffix(".err")
    started = time.monotonic()
    pid = os.fork()
    if pid == 0:  # the child: limits, then the command line as a user runs it
        code = 70
        try:
            _limit()
            signal.alarm(LIMIT_SECONDS)
            with open(out, "wb") as o, open(err, "wb") as e:
                os.dup2(o.fileno(), 1)
                os.dup2(e.fileno(), 2)
            sys.stdout = open(1, "w", encoding="utf-8", closefd=False)  # noqa: SIM115
            sys.stderr = open(2, "w", encoding="utf-8", closefd=False)  # noqa: SIM115
            code = int(call() or 0)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        except BaseException:  # noqa: BLE001 - reported as the crash it is
            import traceback

            traceback.print_exc()
            code = 70
        finally:
            try:
                sys.stdout.flush()
                sys.stderr.flush()
            finally:
                os._exit(code)
    _, status, usage = os.wait4(pid, 0)
    return {"status": status, "seconds": round(time.monotonic() - started, 2),
            "max_rss_mb": round(usage.ru_maxrss / 1024), "stdout": out.read_bytes(),
            "stderr": err.read_bytes().decode("utf-8", "replace")}


def _verdict(status: int, stderr: str) -> str:
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        return "timeout" if sig in (signal.SIGALRM, signal.SIGKILL) else f"crash (signal {sig})"
    if "MemoryError" in stderr or "Cannot allocate memory" in stderr or "std::bad_alloc" in stderr:
        return "memory"
    code = os.WEXITSTATUS(status)
    raw_traceback = any(line.startswith("Traceback") for line in stderr.splitlines())  # not one inside a log line
    if raw_traceback or code not in (0, 1):
        return f"crash (exit {code})"
    return "ok"


def _judge_validate(item: dict[str, Any], outcome: dict[str, Any]) -> dict[str, Any]:
    verdict = _verdict(outcome["status"], outcome["stderr"])
    raw = outcome.pop("stdout")
    valid = internal = None
    status, stderr = outcome["status"], outcome["stderr"]
    if verdict.startswith("crash") and os.WIFEXITED(status) and os.WEXITSTATUS(status) in (0, 1):
        verdict = "ok"  # a traceback the last-resort guard logged: judged by the output (INTERNAL) below
    if (verdict.startswith("crash") and os.WIFEXITED(status) and os.WEXITSTATUS(status) == 2
            and "Traceback" not in stderr and "tipo interno" in stderr):
        return {"verdict": "ok", "valid": False, "internal": False, "wrong_acceptance": False,
                "error": "refused: --kind names an internal kind"}
    if verdict == "ok":
        try:
            entries = json.loads(raw.decode("utf-8"))
            valid = all(e.get("valid") and not e.get("bad_rows") for e in entries)
            internal = any(f["code"] == "INTERNAL" for e in entries for f in e.get("findings", []))
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            verdict = f"crash (output not JSON: {type(exc).__name__})"
    wrong = verdict == "ok" and item["expect"] == "reject" and valid
    tail = outcome.pop("stderr").strip().splitlines()[-1:] if verdict != "ok" else []
    return {"verdict": verdict, "valid": valid, "internal": bool(internal), "wrong_acceptance": bool(wrong),
            "error": tail[0][:300] if tail else None}


# run --once, batches of inputs in one workspace -----------------------------------------------------------

def run_batches(corpus: Path, manifest: list[dict[str, Any]], work: Path, code: Path | None,
                every: int, batch: int) -> list[dict[str, Any]]:
    chosen = [item for item in manifest if item["index"] % every == 0 or item["class"] == "file-name"]
    results = []
    for start in range(0, len(chosen), batch):
        results += _run_batch(corpus, chosen[start:start + batch], work / f"run{start:04d}", code)
        print(f"  run --once: {min(start + batch, len(chosen))}/{len(chosen)}", file=sys.stderr, flush=True)
    return results


def _run_batch(corpus: Path, items: list[dict[str, Any]], root: Path, code: Path | None) -> list[dict[str, Any]]:
    root.mkdir(parents=True)
    kinds = sorted({i["kind"] for i in items if i["kind"].startswith("erp:")})
    folders = {"auto": "inbox/auto", **{k: f"inbox/{k[4:]}" for k in kinds}}
    sources = "".join(f'\n[[source]]\nname = "{k.replace(":", "-")}"\ntype = "folder"\npath = "{p}"\n'
                      f'kind = "{k}"\nstable_time = "0s"\n' for k, p in folders.items())
    config = _config(root, corpus, sources)
    placed = []
    for item in items:
        folder = root / folders.get(item["kind"], "inbox/auto")
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / item["name"]
        if target.exists():  # the same name twice in one batch: a sub-folder is not taken (recursive = false)
            continue
        target.write_bytes((corpus / item["path"]).read_bytes())
        placed.append((item, target))
    code = code or Path(__file__).resolve().parents[2]
    started = time.monotonic()
    try:
        proc = subprocess.run([sys.executable, "-c", _BOOT, str(code), "run", "--once", "-c", str(config)],
                              cwd=root, capture_output=True, timeout=LIMIT_SECONDS, preexec_fn=_limit)
        status, stderr = proc.returncode, proc.stderr.decode("utf-8", "replace")
        verdict = _verdict(status << 8 if status >= 0 else -status, stderr)
    except subprocess.TimeoutExpired:
        verdict, stderr = "timeout", ""
    seconds = round(time.monotonic() - started, 2)
    documents = _documents(root / "var" / "gateway.db")
    out = []
    for item, target in placed:
        from adapters.sources.folder import printable_name

        shown = printable_name(item["name"])
        docs = [d for d in documents if d["filename"] == shown and d["parent_id"] is None]
        states = sorted({d["state"] for d in docs} | {s for d in docs for s in _descendants(documents, d["id"])})
        left = target.is_file()  # a file named like the processed folder gives its name to the folder
        ignored = item["name"].startswith(".")  # dot-files are never taken, by design (docs: folder source)
        lost = ((not docs) or left) and not ignored
        accepted = bool(states) and "rejected" not in states and any(s in ("ready", "forwarded", "normalised",
                                                                          "split", "pending") for s in states)
        wrong = item["expect"] == "reject" and accepted and verdict == "ok"
        out.append({**item, "verdict": verdict, "seconds": seconds, "states": states, "left_in_inbox": left,
                    "lost": lost and verdict == "ok", "wrong_acceptance": wrong,
                    "internal": any("INTERNAL" in (d["reason"] or "").split(",") for d in docs),
                    "error": stderr.strip().splitlines()[-1][:300] if verdict != "ok" and stderr.strip() else None})
    return out


def _documents(db: Path) -> list[dict[str, Any]]:
    if not db.exists():
        return []
    with sqlite3.connect(db) as connection:
        connection.row_factory = sqlite3.Row
        columns = {r[1] for r in connection.execute("PRAGMA table_info(documents)")}
        reason = "(SELECT group_concat(code) FROM findings f WHERE f.document_id = d.id)"
        parent = "parent_id" if "parent_id" in columns else "NULL"
        return [dict(r) for r in connection.execute(
            f"SELECT id, filename, state, {parent} AS parent_id, {reason} AS reason FROM documents d")]


def _has_table(connection: sqlite3.Connection, name: str) -> bool:
    return connection.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (name,)).fetchone() is not None


def _descendants(documents: list[dict[str, Any]], parent: str) -> list[str]:
    states = []
    for doc in documents:
        if doc["parent_id"] == parent:
            states.append(doc["state"])
            states += _descendants(documents, doc["id"])
    return states


# report ---------------------------------------------------------------------------------------------------

def summarise(results: list[dict[str, Any]]) -> dict[str, Any]:
    def count(predicate: Any) -> int:
        return sum(1 for r in results if predicate(r))

    return {"inputs": len(results), "ok": count(lambda r: r["verdict"] == "ok"),
            "crashes": count(lambda r: r["verdict"].startswith("crash")),
            "timeouts": count(lambda r: r["verdict"] == "timeout"),
            "memory": count(lambda r: r["verdict"] == "memory" or r.get("max_rss_mb", 0) > 1024),
            "lost": count(lambda r: r.get("lost")), "wrong_acceptances": count(lambda r: r["wrong_acceptance"]),
            "internal_findings": count(lambda r: r["internal"]),
            "max_rss_mb": max((r.get("max_rss_mb", 0) for r in results), default=0),
            "max_seconds": max((r["seconds"] for r in results), default=0)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--code", type=Path, default=None, help="run this checkout of the gateway instead")
    parser.add_argument("--run-every", type=int, default=4, help="every Nth input also goes through run --once")
    parser.add_argument("--batch", type=int, default=15)
    parser.add_argument("--only", choices=["validate", "run"], default=None)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    _use_code(args.code.resolve() if args.code else Path(__file__).resolve().parents[2])
    import gateway

    print(f"gateway from {Path(gateway.__file__).parent}", file=sys.stderr)
    corpus = args.corpus.resolve()
    manifest = json.loads((corpus / "manifest.json").read_text(encoding="utf-8"))
    report: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="hostile-") as tmp:
        work = Path(tmp)
        if args.only in (None, "validate"):
            validated = validate_all(corpus, manifest, work)
            report["validate"] = {"summary": summarise(validated),
                                  "problems": [r for r in validated if r["verdict"] != "ok" or r["wrong_acceptance"]
                                               or r["internal"]],
                                  "slowest": sorted(validated, key=lambda r: -r["seconds"])[:10]}
            print("validate --json:", json.dumps(report["validate"]["summary"]), flush=True)
        if args.only in (None, "run"):
            ran = run_batches(corpus, manifest, work, args.code, args.run_every, args.batch)
            report["run"] = {"summary": summarise(ran),
                             "problems": [r for r in ran if r["verdict"] != "ok" or r["wrong_acceptance"] or r["lost"]
                                          or r["internal"]],
                             "slowest": sorted(ran, key=lambda r: -r["seconds"])[:5]}
            print("run --once:", json.dumps(report["run"]["summary"]), flush=True)
    if args.out:
        args.out.write_text(json.dumps(report, ensure_ascii=True, indent=1, default=str), encoding="utf-8")


if __name__ == "__main__":
    main()
