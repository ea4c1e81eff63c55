"""What a batch of verdicts touches, named as lock keys, so that several nodes commit batches side by side.

On PostgreSQL a keyed transaction (``gateway/store/postgres.py``) excludes only the writers that name one of its
keys; everything else runs at the same time. The keys of a document's verdict, known before the transaction
opens because its kind was checked first: the document itself (``doc:<id>``), its business key and the keys it
refers to (``key:…``: resends, links and the delivery order of its group) and its correlation keys
(``ck:<type>:<value>``: the groups it joins). What correlation reaches beyond those (the rest of a group) and
a part's container are locked on the way (``lock_keys``). A batch holding a document whose effects are not
known in advance (a container, a kind checked in turn, such as an ERP chunk reading the material master) gets
no keys: it has the store to itself, as every write did before.
"""

from __future__ import annotations

from gateway.kinds.base import CheckResult
from gateway.runtime import Runtime
from gateway.store.lock_keys import business, correlation, document

Checked = tuple[str | None, CheckResult]


def batch_keys(gw: Runtime, group: list[tuple[str, Checked | None]]) -> list[str] | None:
    """Every key of the batch's verdicts, or None when one of them cannot be known before it is reached."""
    keys: list[str] = []
    for document_id, checked in group:
        mine = verdict_keys(gw, document_id, checked)
        if mine is None:
            return None
        keys.extend(mine)
    return keys


def verdict_keys(gw: Runtime, document_id: str, checked: Checked | None) -> list[str] | None:
    if checked is None:
        return None
    kind_name, result = checked
    if result.parts is not None:
        return None
    keys = [document(document_id)]
    if result.business_key:
        keys.append(business(result.business_key))
    keys.extend(business(key) for _, key in result.related)
    kind = gw.kinds.get(kind_name) if kind_name and result.record else None
    if kind is not None and result.record:
        found = kind.correlation_keys(result.record)
        keys.extend(correlation(key) for key in found.provides | found.needs)
    return keys

