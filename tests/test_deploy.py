"""deploy/: the systemd units verify, run commands this CLI accepts, and the alerts watch metrics that exist."""

from __future__ import annotations

import configparser
import re
import shlex
import subprocess
import sys
from pathlib import Path

import yaml

from tests.conftest import REPO

DEPLOY = REPO / "deploy"
UNITS = ["immex-gateway-run.service", "immex-gateway-serve.service"]
SCRIPT = Path(sys.executable).parent / "immex-gateway"


def _unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str
    parser.read(DEPLOY / name)
    return parser


def test_units_pass_systemd_analyze_verify(tmp_path):
    for name in UNITS:  # the same unit with this checkout's console script, which must exist to verify
        text = (DEPLOY / name).read_text().replace("/opt/immex-gateway/.venv/bin/immex-gateway", str(SCRIPT))
        (tmp_path / name).write_text(text)
    result = subprocess.run(["systemd-analyze", "verify", "--man=no", *(str(tmp_path / n) for n in UNITS)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == ""


def test_units_run_this_cli_and_stop_on_a_configuration_error():
    from gateway.cli import _parser

    commands = set()
    for name in UNITS:
        service = _unit(name)["Service"]
        program, *args = shlex.split(service["ExecStart"])
        assert program.endswith("/.venv/bin/immex-gateway")
        parsed = _parser().parse_args(args)
        commands.add(parsed.command)
        assert Path(parsed.config).is_absolute() and parsed.config.startswith(service["WorkingDirectory"])
        assert service["Restart"] == "on-failure" and service["RestartPreventExitStatus"] == "2"
        assert service["User"] == "immex" and service["EnvironmentFile"].endswith("gateway.env")
        assert service["KillSignal"] == "SIGTERM"
    assert commands == {"run", "serve"}
    assert "| 2 | **configuration error**" in (REPO / "docs/operations.md").read_text()


def test_environment_file_names_the_variables_the_gateway_reads():
    from gateway.web.settings import SECRET_ENV

    names = re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", (DEPLOY / "gateway.env").read_text(), re.MULTILINE)
    assert SECRET_ENV in names and "IMMEX_GATEWAY_CONFIG" in names
    example = (REPO / "config/gateway.toml").read_text()
    for variable in ("ANNEX24_TOKEN", "BROKER_SFTP_PASSWORD"):  # as the example configuration names them
        assert variable in names and f'"{variable}"' in example


def test_alerts_and_operations_doc_name_real_metrics(workspace, make_invoice):
    from gateway import metrics, runner

    (workspace.inbox / "factura.xml").write_bytes(make_invoice(1))
    gw = workspace.gateway()
    try:
        runner.run_once(gw)
        gw.health.ok("sink", "inventory")
        exposed = metrics.render(gw.store)
    finally:
        gw.close()
    families = set(re.findall(r"^# TYPE (\w+) ", exposed, re.MULTILINE))
    assert "immex_delivery_latency_seconds" in families

    rules = yaml.safe_load((DEPLOY / "alerts.yml").read_text())["groups"][0]["rules"]
    used = {name for rule in rules for name in re.findall(r"\bimmex_\w+", rule["expr"])}
    assert used and {re.sub(r"_bucket$", "", name) for name in used} <= families

    doc = (REPO / "docs/operations.md").read_text()
    assert {name for name in families if f"`{name}{{" not in doc} == set()  # every family in the table
