"""The M-file writer builds pedimentos the parser reads back clean, in the published canonical shape."""

from __future__ import annotations

import jsonschema

from gateway.demo.generate.pedimento import mfile, sample_mfile, sample_pedimento
from gateway.kinds.pedimento import normalise
from tests.pedimento_fixtures import SCHEMA, blocks, findings_of


def test_generated_m_file_is_clean_and_normalises_to_the_schema():
    name, data = sample_mfile(3, partidas=4)
    found, check = blocks(name, data)
    assert check.findings == [] and len(found) == 3
    for block in found:
        assert findings_of(block) == []
        record = normalise.build(normalise.records_from_lines(block.lines), {"format": "mfile"})
        jsonschema.validate(record, SCHEMA)
        assert record["clave"] == "IN" and record["immex_program"] == "1234-2006"
        assert record["totals"]["partidas_value_usd"] == record["totals"]["invoices_value_usd"]
        assert len(record["partidas"]) == 4 and record["invoices"][0]["cove"].startswith("COVE")


def test_cfdi_uuid_in_505_is_recognised():
    ped = sample_pedimento(7, 2, clave="RT", operation_type="2", use_cfdi=True, invoices=2)
    name, data = mfile([ped])
    (block,), _ = blocks(name, data)
    assert findings_of(block) == []
    record = normalise.build(normalise.records_from_lines(block.lines), {"format": "mfile"})
    assert [i["document_type"] for i in record["invoices"]] == ["cfdi", "cfdi"]
    assert record["operation"] == "EXP" and record["number"] == "262434566000007"
    assert record["printed_number"] == "26  24  3456  6000007"
