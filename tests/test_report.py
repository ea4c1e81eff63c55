"""``validate``'s output rendered per entry: exactly the characters ``json.dumps`` of the whole list gives."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest

from gateway import report

ODD: list[Any] = [
    {},
    [],
    {"a": {}, "b": [], "c": [[]], "d": [{}], "e": ({"x": ()},)},
    {"texto": "ñandú “comillas” \\\\ \" \n\t\x00\x1f\u2028 \ud800 😀", "n": None, "t": True, "f": False},
    {"i": 0, "neg": -12, "big": 10**30, "fl": 1.5, "tiny": 1e-300, "nan": float("nan"), "inf": float("inf"),
     "-inf": float("-inf"), "neg0": -0.0},
    {7: "int key", None: "none key", True: "bool key", 2.5: "float key"},
    {"sub": type("S", (str,), {})("a str subclass"), "b": [True, False, None, 1, "x"]},
    {"deep": [[[[[[[[[[{"k": [1, {"z": "y"}]}]]]]]]]]]]},
    {"filename": "x.xml", "kind": "cfdi", "valid": True, "findings": [{"code": "A", "location": {"line": 2}}],
     "record": {"conceptos": [{"cantidad": "8", "partes": []}]}},
]


@pytest.mark.parametrize("item", ODD)
def test_an_item_is_rendered_as_json_dumps_renders_it_in_a_list(item: Any) -> None:
    whole = json.dumps([item, item], ensure_ascii=False, indent=2)
    stream = io.StringIO()
    writer = report.Writer(stream, as_json=True)
    writer.write(report.item_json(item))
    writer.write(report.item_json(item))
    writer.close()
    assert stream.getvalue() == whole + "\n"


def test_deeper_than_the_indent_table_is_left_to_json() -> None:
    item: Any = "hoja"
    for _ in range(200):
        item = {"k": [item]}
    assert report.item_json(item) == json.dumps(item, ensure_ascii=False, indent=2).replace("\n", "\n  ")


def test_what_json_refuses_is_still_refused() -> None:
    from decimal import Decimal

    with pytest.raises(TypeError):
        report.item_json({"d": Decimal("1.5")})


def test_an_empty_output_is_an_empty_list() -> None:
    stream = io.StringIO()
    report.Writer(stream, as_json=True).close()
    assert stream.getvalue() == json.dumps([]) + "\n"
