"""The canonical ERP kinds: which fields a row of each carries, their types and their limits.

One place for what ``docs/schema/erp.*.schema.json`` publishes (``tests/test_erp_schemas.py`` keeps both in step):
mappings are checked against it, rows are converted to it and chunks are re-validated with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

#: How a value is parsed from the export and written in the canonical row (always a string or null).
TYPES = ("string", "decimal", "integer", "date", "fraccion", "nico", "rfc", "pedimento", "uuid", "country")


@dataclass(frozen=True)
class Field:
    name: str
    type: str = "string"
    required: bool = False
    enum: tuple[str, ...] | None = None
    minimum: Decimal | None = None
    #: the value must be greater than ``minimum`` (quantities), not equal
    exclusive: bool = False
    maximum: Decimal | None = None
    #: a part number to look up in the material master (ERP-UNKNOWN-PART)
    part: bool = False
    label: str = ""
    #: the catalog every value is checked against (ERP-CATALOG): ``anexo22:unidades``, ``anexo22:paises``,
    #: ``tigie`` (fracción, NICO); a unit field's catalog is chosen by the mapping (``catalog = "c_ClaveUnidad"``)
    catalog: str | None = None
    unit: bool = False


MATERIAL_TYPES = ("raw_material", "finished_good", "packaging", "asset")
_ZERO, _HUNDRED = Decimal(0), Decimal(100)

TARGETS: dict[str, tuple[Field, ...]] = {
    "erp.materials": (
        Field("part_number", required=True, label="número de parte"),
        Field("description", label="descripción"),
        Field("material_type", required=True, enum=MATERIAL_TYPES, label="tipo de material"),
        Field("unit", required=True, label="unidad comercial (UMC)", unit=True),
        Field("fraccion", "fraccion", label="fracción arancelaria", catalog="tigie"),
        Field("nico", "nico", label="NICO", catalog="tigie"),
        Field("umt", label="unidad de tarifa (UMT)", catalog="anexo22:unidades"),
        Field("umc_umt_factor", "decimal", minimum=_ZERO, exclusive=True, label="factor de conversión UMC→UMT"),
        Field("country_of_origin", "country", label="país de origen", catalog="anexo22:paises"),
    ),
    "erp.bom": (
        Field("finished_good", required=True, part=True, label="producto terminado"),
        Field("revision", label="revisión"),
        Field("valid_from", "date", label="vigente desde"),
        Field("valid_to", "date", label="vigente hasta"),
        Field("component", required=True, part=True, label="componente"),
        Field("quantity_per_unit", "decimal", required=True, minimum=_ZERO, exclusive=True,
              label="cantidad por unidad"),
        Field("unit", required=True, label="unidad", unit=True),
        Field("scrap_percent", "decimal", minimum=_ZERO, maximum=_HUNDRED, label="merma (%)"),
        Field("waste_percent", "decimal", minimum=_ZERO, maximum=_HUNDRED, label="desperdicio (%)"),
    ),
    "erp.receipts": (
        Field("receipt_date", "date", required=True, label="fecha de recepción"),
        Field("part_number", required=True, part=True, label="número de parte"),
        Field("quantity", "decimal", required=True, minimum=_ZERO, exclusive=True, label="cantidad"),
        Field("unit", required=True, label="unidad", unit=True),
        Field("supplier", required=True, label="proveedor"),
        Field("supplier_rfc", "rfc", label="RFC del proveedor"),
        Field("invoice_number", label="número de factura"),
        Field("pedimento", "pedimento", label="pedimento"),
        Field("lot", label="lote"),
    ),
    "erp.shipments": (
        Field("ship_date", "date", required=True, label="fecha de embarque"),
        Field("part_number", required=True, part=True, label="número de parte (producto terminado)"),
        Field("quantity", "decimal", required=True, minimum=_ZERO, exclusive=True, label="cantidad"),
        Field("unit", required=True, label="unidad", unit=True),
        Field("customer", required=True, label="cliente"),
        Field("customer_rfc", "rfc", label="RFC del cliente"),
        Field("invoice_number", label="número de factura"),
        Field("cfdi_uuid", "uuid", label="UUID del CFDI"),
        Field("pedimento", "pedimento", label="pedimento de exportación"),
        Field("lot", label="lote"),
    ),
}

FIELDS: dict[str, dict[str, Field]] = {target: {f.name: f for f in fields} for target, fields in TARGETS.items()}


def part_fields(target: str) -> tuple[str, ...]:
    return tuple(f.name for f in TARGETS[target] if f.part)


_VALUE_SCHEMAS: dict[str, dict[str, object]] = {
    "string": {"type": "string", "minLength": 1},
    "decimal": {"type": "string", "pattern": r"^-?\d+(\.\d+)?$"},
    "integer": {"type": "string", "pattern": r"^-?\d+$"},
    "date": {"type": "string", "format": "date", "pattern": r"^\d{4}-\d{2}-\d{2}$"},
    "fraccion": {"type": "string", "pattern": r"^\d{8}$"},
    "nico": {"type": "string", "pattern": r"^\d{2}$"},
    "rfc": {"type": "string", "pattern": r"^[A-ZÑ&]{3,4}\d{6}[A-Z0-9]{3}$"},
    "pedimento": {"type": "string", "pattern": r"^\d{15}$"},
    "uuid": {"type": "string", "pattern": r"^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$"},
    "country": {"type": "string", "pattern": r"^[A-Z]{3}$"},
}
_TITLES = {"erp.materials": "ERP material master", "erp.bom": "ERP bill of materials",
           "erp.receipts": "ERP goods receipts", "erp.shipments": "ERP shipments"}


def json_schema(target: str) -> dict[str, object]:
    """The published JSON Schema of a chunk's ``record`` (docs/schema/<target>.schema.json is this, written out)."""
    row_properties: dict[str, object] = {"row": {"type": "integer", "minimum": 1,
                                                 "description": "Row (CSV/XLSX line, XML/JSON record number) "
                                                                "of the export this row came from."}}
    for f in TARGETS[target]:
        value = dict(_VALUE_SCHEMAS[f.type])
        if f.enum:
            value = {"enum": list(f.enum)}
        limits = []
        if f.minimum is not None:
            limits.append(f"{'>' if f.exclusive else '≥'} {f.minimum}")
        if f.maximum is not None:
            limits.append(f"≤ {f.maximum}")
        text = f"{f.label} ({f.type}{', ' + ', '.join(limits) if limits else ''})"
        row_properties[f.name] = ({**value, "description": text} if f.required else
                                  {"anyOf": [value, {"type": "null"}], "description": text})
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"https://immex-gateway.dev/schema/{target}/1.0",
        "title": f"{_TITLES[target]} chunk: canonical record",
        "description": f"The `record` of a forwarded document of kind `{target}`: up to `chunk_rows` rows of one "
                       "ERP export read through a mapping (mappings/*.toml). Every row has every property (null "
                       "when the export has no value); decimals are strings with a dot, dates ISO 8601, codes as "
                       "in SAT's and Anexo 22's catalogs. The envelope's source names the export file.",
        "type": "object",
        "additionalProperties": False,
        "required": ["mapping", "chunk", "rows"],
        "properties": {
            "mapping": {"type": "string", "description": "Name of the mapping that read the export."},
            "chunk": {"type": "integer", "minimum": 1, "description": "Number of this chunk within the export."},
            "rows": {"type": "array", "minItems": 1, "items": {
                "type": "object", "additionalProperties": False, "required": list(row_properties),
                "properties": row_properties}},
        },
    }

