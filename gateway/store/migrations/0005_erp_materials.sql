-- The material master as last received through erp.materials chunks: BOMs, receipts and shipments are
-- checked against it (ERP-UNKNOWN-PART). One row per part number, updated by each newer chunk naming it.
CREATE TABLE erp_materials (
    part_number   TEXT PRIMARY KEY,
    material_type TEXT,
    fraccion      TEXT,
    nico          TEXT,
    umt           TEXT,
    document_id   TEXT NOT NULL REFERENCES documents(id),
    updated_at    TEXT NOT NULL
);
