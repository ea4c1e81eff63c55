#!/usr/bin/env python
"""CFDI validation cost in CPU instructions per invoice, counted by valgrind: the same figure on every run.

Timings on the shared development machines wander by up to 2x within a minute, which hides a 5 % change.
Instruction counts do not: callgrind counts what the process executes inside one ``functools.reduce``
over the documents (start-up, imports and schema compilation are left out), so two runs of the same code
agree to 0.01 %. Instructions are not time (libxml2's parsing runs about twice as many per nanosecond as
the interpreter does), so this complements ``bench_cfdi.py``; it does not replace it.

  (a) parse only, hardened lxml parser: the raw baseline      (c) CfdiKind.validate: XSD + rules + SAT matrix
  (c-m) (c) without SAT's matrix rules                         (c+n) CfdiKind.check: (c) + the canonical record
  (s) (c) + both seals (issuer and timbre, SelloSAT verified)  (s-xslt) (s) with the cadenas through libxslt,
      the path before gateway/kinds/cfdi/cadena.py             (s+n) CfdiKind.check with seals: what `validate` does
and, from (c) with one stage switched off at a time: libxml2 XSD, lifted catalogs, SAT matrix, foundation rules.

Usage: python bench/bench_cfdi_instructions.py [--n 100]      (needs valgrind: apt-get install valgrind)
"""

from __future__ import annotations

import argparse
import functools
import pickle
import re
import shutil
import subprocess
import sys
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

STAGES = {
    "a": "(a) parse only",
    "c": "(c) validate: XSD + rules + SAT matrix",
    "c-m": "(c-m) without the SAT matrix",
    "c+n": "(c+n) + canonical record",
    "s": "(s) (c) + both seals",
    "s-xslt": "(s-xslt) (s), cadenas by libxslt (before)",
    "s+n": "(s+n) (s) + canonical record",
    "no-xsd": "(c) without libxml2's XSD",
    "no-catalogs": "(c) without the lifted catalogs",
    "no-rules": "(c) without the foundation's rules",
}
WARM = 10  # documents validated before counting: lazily compiled schemas, catalogs, caches


def generate(count: int) -> tuple[list[bytes], bytes]:
    """The invoices, and the DER certificate of the PAC that stamped them (for the SelloSAT)."""
    from cryptography.hazmat.primitives.serialization import Encoding

    from gateway.demo.generate.cfdi import demo_identities, export_invoice
    from gateway.kinds.cfdi.satfiles import default_root
    from gateway.kinds.cfdi.seals import CertificateStore, SealVerifier

    now = datetime.now().replace(microsecond=0)
    issuer, pac = demo_identities(now - timedelta(days=365), now + timedelta(days=365))
    verifier = SealVerifier(default_root(), CertificateStore([]))
    docs = [export_invoice(seq, issuer, pac, verifier, fecha=now - timedelta(days=2, seconds=-seq))
            for seq in range(1, count + WARM + 1)]
    return docs, pac.cert.public_bytes(Encoding.DER)


def child(stage: str, corpus: Path) -> None:
    """Run one stage over the corpus inside ``functools.reduce`` (the only code callgrind counts)."""
    from lxml import etree

    import gateway.kinds.cfdi.kind as kind_module
    from gateway.kinds.cfdi.kind import CfdiKind

    docs, pac = pickle.loads(corpus.read_bytes())
    if stage.startswith("s"):
        (corpus.parent / "certs").mkdir(exist_ok=True)
        (corpus.parent / "certs" / "pac.cer").write_bytes(pac)
        kind = CfdiKind(certificate_dirs=[corpus.parent / "certs"])
    else:
        kind = CfdiKind(verify_seals=False)
    for data in docs[:WARM]:
        kind.check(data)
    if stage == "s-xslt":
        from gateway.kinds.cfdi.cadena import CadenaPlan, Unsupported

        def libxslt(plan: object, context: object) -> str:
            raise Unsupported("the plan switched off")

        CadenaPlan.run = libxslt  # type: ignore[method-assign, assignment]
    if stage == "c-m":
        kind_module.check_matrix = lambda doc: []
    elif stage == "no-rules":
        kind_module.check_rules = lambda doc: []
    elif stage == "no-catalogs":  # both ways CfdiSchema reads them: the full walk and the Layout's nodes
        kind.schema._check_catalogs = lambda root: []  # type: ignore[method-assign]
        kind.schema._catalogs_ok = lambda layout: True  # type: ignore[method-assign]
    elif stage == "no-xsd":
        class _Valid:
            error_log: list = []

            def validate(self, root: object) -> bool:
                return True
        kind.schema.schema = _Valid()  # type: ignore[assignment]
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    run = {"a": lambda data: etree.fromstring(data, parser), "c+n": kind.check,
           "s+n": kind.check}.get(stage, kind.validate)
    functools.reduce(lambda _, data: run(data), docs[WARM:], None)


def count(stage: str, corpus: Path) -> int:
    with tempfile.TemporaryDirectory(prefix="bench-ir-") as tmp:
        out = Path(tmp) / "callgrind.out"
        command = ["valgrind", "--tool=callgrind", "--toggle-collect=functools_reduce", f"--callgrind-out-file={out}",
                   sys.executable, __file__, "--child", stage, str(corpus)]
        proc = subprocess.run(command, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise SystemExit(f"FAIL {stage}: valgrind exited {proc.returncode}\n{proc.stderr[-2000:]}")
        match = re.search(r"^(?:summary|totals):\s+(\d+)", out.read_text(), re.MULTILINE)
        if match is None:
            raise SystemExit(f"FAIL {stage}: no instruction count in callgrind's output")
        return int(match.group(1))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100, help="documents counted per stage (default 100)")
    parser.add_argument("--stages", nargs="*", choices=list(STAGES), help="only these stages (default: all)")
    parser.add_argument("--child", nargs=2, metavar=("STAGE", "CORPUS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]))
        return 0
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (apt-get install valgrind)")
    with tempfile.TemporaryDirectory(prefix="bench-ir-") as tmp:
        corpus = Path(tmp) / "corpus.pickle"
        corpus.write_bytes(pickle.dumps(generate(args.n)))
        per_doc: dict[str, float] = {}
        for stage in args.stages or STAGES:
            per_doc[stage] = count(stage, corpus) / args.n
            print(f"  {STAGES[stage]:42s} {per_doc[stage]:>11,.0f}", file=sys.stderr, flush=True)
    if set(per_doc) != set(STAGES):
        return 0
    a, c = per_doc["a"], per_doc["c"]
    print(f"instructions per invoice, {args.n} generated export invoices (CFDI 4.0 + Comercio Exterior 2.0)\n")
    for stage, label in STAGES.items():
        print(f"  {label:42s} {per_doc[stage]:>11,.0f}   /a = {per_doc[stage] / a:5.2f}")
    print("\nwhere (c) goes (the stage switched off, subtracted from (c)):")
    for stage, label in (("a", "parse (the baseline itself)"), ("no-xsd", "libxml2 XSD"),
                         ("no-catalogs", "lifted catalogs"), ("c-m", "SAT matrix"), ("no-rules", "foundation rules")):
        share = a if stage == "a" else c - per_doc[stage]
        print(f"  {label:42s} {share:>11,.0f}   {100 * share / c:5.1f} %")
    s, full, before = per_doc["s"], per_doc["s+n"], per_doc["s-xslt"]
    print("\nwhere (s+n), what `validate` does, goes (and the seals before the plan, cadenas by libxslt):")
    for label, share in (("(c) XSD + rules + SAT matrix", c), ("both seals: cadenas, RSA, certificates", s - c),
                         ("canonical record", full - s), ("both seals, cadenas by libxslt", before - c)):
        print(f"  {label:42s} {share:>11,.0f}   {100 * share / full:5.1f} %")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
