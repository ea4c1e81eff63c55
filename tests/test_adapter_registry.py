"""A new transport is its own file plus one registry line: shown with a sink written here, in a file of its own."""

from __future__ import annotations

import json
import textwrap

import pytest

from adapters import registry
from gateway import runner
from gateway.errors import ConfigError
from tests.delivery_fixtures import use_sinks

#: the whole new transport: a sink that appends each canonical document to one JSON-lines file
JOURNAL_SINK = '''
"""A sink that appends every delivered document to one JSON-lines file (a test transport)."""

import json
from pathlib import Path

from gateway.config import _only, _path, _required_str
from gateway.ports import ConfigContext, Outgoing, SinkBase


class JournalSink(SinkBase):
    TYPE = "journal"

    @classmethod
    def check_options(cls, options: dict, where: str, context: ConfigContext) -> dict:
        _only(options, where, {"file"})
        options["file"] = _path(context.base_dir, _required_str(options, "file", where))
        return options

    def __init__(self, config) -> None:
        super().__init__(config)
        self.file: Path = config.options["file"]

    def deliver(self, item: Outgoing) -> None:
        seen = self.file.read_text().splitlines() if self.file.exists() else []
        if any(json.loads(line)["id"] == item.id for line in seen):
            return  # idempotent by id
        with self.file.open("a") as out:
            out.write(json.dumps(item.canonical) + "\\n")
'''


@pytest.fixture
def journal_sink_type(tmp_path, monkeypatch):
    module_dir = tmp_path / "third_party"
    module_dir.mkdir()
    (module_dir / "journal_sink.py").write_text(textwrap.dedent(JOURNAL_SINK))  # the one new file
    monkeypatch.syspath_prepend(str(module_dir))
    monkeypatch.setitem(registry.SINKS, "journal", registry._lazy("journal_sink", "JournalSink"))  # the one line


def test_a_new_sink_type_is_one_file_and_one_registry_line(workspace, make_invoice, journal_sink_type):
    use_sinks(workspace, '[[sink]]\nname = "journal"\ntype = "journal"\nfile = "delivered.jsonl"\n')
    (workspace.inbox / "a.xml").write_bytes(make_invoice(1))
    gw = workspace.gateway()
    try:
        runner.run_once(gw)
        doc = gw.store.list_documents()[0]
        assert doc.state == "forwarded"
    finally:
        gw.close()
    lines = (workspace.root / "delivered.jsonl").read_text().splitlines()
    assert [json.loads(line)["id"] for line in lines] == [doc.id]


def test_the_new_sink_checks_its_own_keys_at_start_up(workspace, journal_sink_type):
    from gateway.app import load_settings

    use_sinks(workspace, '[[sink]]\nname = "journal"\ntype = "journal"\nfile = "d.jsonl"\nfiel = "x"\n')
    with pytest.raises(ConfigError, match=r"sink 'journal'\.fiel: unknown key"):
        load_settings(workspace.config)


def test_an_unknown_type_names_the_key_and_the_types_there_are(workspace):
    use_sinks(workspace, '[[sink]]\nname = "inventory"\ntype = "carrier-pigeon"\n')
    result = workspace.cli("run", "--once")
    assert result.returncode != 0
    assert "sink 'inventory'.type: 'carrier-pigeon' is not one of folder, http, sftp, sql" in result.stderr
