"""The correlation part of ``immex-gateway demo``: a month of one plant's pedimentos, COVEs and CFDIs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from gateway import outbox, runner
from gateway.app import Gateway
from gateway.config import load
from gateway.correlation import correlate
from gateway.demo import scenario

_CONFIG = """# Correlation demo: pedimentos, COVEs and export CFDIs of one IMMEX plant (immex-gateway demo).
[gateway]
data_dir = "var"
company_rfc = "{rfc}"
immex_program = "{program}"
correlation_timeout = "72h"

[validation]
certificate_dirs = ["certs"]

[correlation]
on_timeout = "reject"
hold = ["cove", "cfdi"]

[logging]
level = "warning"

[[source]]
name = "broker-drop"
type = "folder"
path = "inbox"
stable_time = "0.2s"

[[sink]]
name = "inventory"
type = "folder"
path = "outbox"
"""


def correlation_config(rfc: str = scenario.COMPANY_RFC, program: str = scenario.PROGRAM) -> str:
    """A workspace (inbox, outbox, certs, var/ beside the file) that holds COVEs and export CFDIs for correlation."""
    return _CONFIG.format(rfc=rfc, program=program)


def run_correlation_demo(root: Path, command: str = "immex-gateway") -> None:
    from gateway.demo.generate.cfdi import demo_identities, write_certificate
    from gateway.kinds.cfdi.satfiles import default_root
    from gateway.kinds.cfdi.seals import CertificateStore, SealVerifier

    now = datetime.now().replace(microsecond=0)
    issuer, pac = demo_identities(now - timedelta(days=365), now + timedelta(days=365))
    plan = scenario.month(issuer, pac, SealVerifier(default_root(), CertificateStore([])))
    (root / "inbox").mkdir(parents=True)
    write_certificate(pac, root / "certs")
    config = root / "gateway.toml"
    config.write_text(correlation_config(), encoding="utf-8")
    for name, data in plan.deliveries:
        (root / "inbox" / name).write_bytes(data)
    print(f"\n— Correlación pedimento ⇄ COVE ⇄ CFDI: un mes de la planta ({len(plan.deliveries)} archivos en "
          f"{root / 'inbox'}, en desorden) —")
    gw = Gateway(load(config))
    try:
        runner.run_once(gw)
        waiting = len(gw.store.list_documents(["pending"]))
        print(f"Tras la primera pasada: {waiting} documento(s) esperan su contraparte (estado pending).")
        print("Simulando que pasan 72 h (correlation_timeout) sin que llegue lo que falta …")
        correlate.resolve_timeouts(gw, at=datetime.now(UTC) + timedelta(hours=72, seconds=1))
        outbox.deliver_due(gw)
        docs = {d.business_key: d for d in reversed(gw.store.list_documents()) if d.business_key}
        for group in plan.groups:
            ped = docs.get(group.pedimento_key)
            if ped is None:
                continue
            codes = sorted({f.code for key in [group.pedimento_key, *group.members] if key in docs
                            for f in gw.store.findings(docs[key].id) if f.code.startswith("XDOC")})
            mark = "✔" if ped.state == "forwarded" else "✘"
            planted = f"  [defecto sembrado: {group.planted}]" if group.planted else ""
            for name, invalid in group.invalid.items():
                planted += f" — {name} rechazado al validarse: {', '.join(sorted(invalid))}"
            print(f"  {mark} {group.label:11} {ped.state:9} {1 + len(group.members)} doc(s)  "
                  f"{', '.join(codes) or 'consistente'}{planted}")
        example = next((docs[g.pedimento_key] for g in plan.groups if g.planted == "valor"), None)
        print("\nPara revisar:")
        print(f"  {command} queue list -c {config}")
        if example is not None:
            print(f"  {command} queue show {example.id} -c {config}   # hallazgos y vínculos del pedimento")
    finally:
        gw.close()
