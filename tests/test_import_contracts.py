"""The import contracts of docs/architecture.md, read from the source (ast), so a tool keeps them, not memory."""

from __future__ import annotations

from pathlib import Path

from bench.import_graph import graph, violations

REPO = Path(__file__).resolve().parents[1]


def test_the_product_keeps_its_import_contracts():
    edges = graph(REPO)
    assert "adapters.registry" in edges["gateway.app"]  # the graph sees the composition root's one import
    assert violations(edges) == []


def test_each_broken_contract_is_reported(tmp_path):
    """The checker itself: a tree breaking every rule once is reported once per rule."""
    files = {
        "gateway/__init__.py": "",
        "gateway/errors.py": "",
        "gateway/config.py": "from gateway import errors\nfrom gateway import findings\n",
        "gateway/findings.py": "",
        "gateway/pipeline.py": "def f():\n    from adapters.sinks import folder\n",
        "gateway/app.py": "from adapters import registry\n",
        "gateway/cli.py": "from gateway.demo import workspace\n",
        "gateway/web.py": "from gateway.demo.generate import cfdi\n",
        "gateway/demo/__init__.py": "",
        "gateway/demo/workspace.py": "from gateway.demo.generate import cfdi\n",
        "gateway/demo/generate/__init__.py": "",
        "gateway/demo/generate/cfdi.py": "",
        "gateway/kinds/__init__.py": "",
        "gateway/kinds/cove.py": "from gateway.correlation.checks import check_group\n",
        "gateway/correlation/__init__.py": "",
        "gateway/correlation/checks.py": "from gateway.correlation import engine\n",
        "gateway/correlation/engine.py": "from . import checks\n",
        "adapters/__init__.py": "",
        "adapters/registry.py": "",
        "adapters/sinks/__init__.py": "",
        "adapters/sinks/folder.py": "from gateway import config\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    assert violations(graph(tmp_path)) == [
        "the config module imports a project module: gateway.config -> gateway.findings",
        "a kind imports correlation: gateway.kinds.cove -> gateway.correlation.checks",
        "core imports an adapter: gateway.pipeline -> adapters.sinks.folder",
        "the demo is imported by the product: gateway.web -> gateway.demo.generate.cfdi",
        "import cycle: gateway.correlation.checks <-> gateway.correlation.engine",
    ]
