"""What the queue, document and overview pages show, as plain data: the HTML pages and the JSON API
render the same dictionaries, so the API offers everything the page does.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from typing import Any, Mapping

from gateway import health
from gateway.app import Gateway
from gateway.findings import by_severity
from gateway.links import links
from gateway.store.base import STATES
from gateway.store.web_queries import DEFAULT_SORT, SORTS, QueueFilter
from gateway.web import immex_panel, source_view
from gateway.web.localtime import LocalTime

MAX_PER_PAGE = 500
EXPORT_MAX_ROWS = 100_000  # an export is of a working view; a year's archive is `documents list --json`


def parse_filter(params: Mapping[str, str], clock: LocalTime | None = None) -> QueueFilter:
    """Query parameters → filter; a value that does not parse is ignored rather than failing the page.

    With a ``clock``, ``from`` and ``to`` are local days of its zone (the page); without, UTC days (the API)."""
    state = params.get("state") or "rejected"
    date_from, date_to = _date(params.get("from")), _date(params.get("to"))
    return QueueFilter(
        state=state if state in STATES else "rejected",
        kind=params.get("kind") or None,
        source=params.get("source") or None,
        code=params.get("code") or None,
        date_from=date_from,
        date_to=date_to,
        text=(params.get("q") or "").strip()[:200] or None,
        received_from=clock.day_start(date_from) if clock and date_from else None,
        received_before=clock.day_start(date_to + timedelta(days=1)) if clock and date_to else None,
    )


def filter_params(f: QueueFilter) -> dict[str, str]:
    """The filter back as query parameters (for paging links)."""
    values = {"state": f.state if f.state != "rejected" else None, "kind": f.kind, "source": f.source,
              "code": f.code, "from": f.date_from.isoformat() if f.date_from else None,
              "to": f.date_to.isoformat() if f.date_to else None, "q": f.text}
    return {k: v for k, v in values.items() if v}


def _date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _int(value: str | None, default: int, low: int, high: int) -> int:
    try:
        return min(max(int(value or default), low), high)
    except ValueError:
        return default


class AggregateCache:
    """Counts per finding code and the filter menus, kept while the store has not changed.

    They cost most of a queue page at tens of thousands of documents (a join over every finding),
    yet change only when a document does; every change writes an audit row, so the newest audit
    id (``change_marker``) tells exactly when a cached value is stale, whichever process wrote it.
    """

    def __init__(self, size: int = 128) -> None:
        self._size = size
        self._values: OrderedDict[Any, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Any, compute: Callable[[], Any]) -> Any:
        with self._lock:
            if key in self._values:
                self._values.move_to_end(key)
                return self._values[key]
        value = compute()
        with self._lock:
            self._values[key] = value
            while len(self._values) > self._size:
                self._values.popitem(last=False)
        return value


def queue(gw: Gateway, params: Mapping[str, str], default_per_page: int,
          cache: AggregateCache | None = None, clock: LocalTime | None = None) -> dict[str, Any]:
    store = gw.store
    f = parse_filter(params, clock)
    marker = store.change_marker()
    cache = cache or AggregateCache()
    per_page = _int(params.get("per_page"), default_per_page, 1, MAX_PER_PAGE)
    total = store.queue_count(f)
    pages = max(1, -(-total // per_page))
    page = _int(params.get("page"), 1, 1, pages)
    sort = params.get("sort") if (params.get("sort") or "").lstrip("-") in SORTS else None
    docs = store.queue_page(f, per_page, (page - 1) * per_page, sort)
    assigned = store.assignments([d.id for d in docs])
    items = []
    for doc in docs:
        row = doc.summary()
        row["finding_count"] = doc.error_count
        row["assigned_to"] = assigned.get(doc.id)
        items.append(row)
    return {
        "filter": filter_params(f) | ({"sort": sort} if sort else {}), "sort": sort or DEFAULT_SORT,
        "total": total, "page": page, "pages": pages, "per_page": per_page,
        "items": items,
        "code_counts": [{"code": code, "documents": n} for code, n in
                        cache.get(("codes", f.without_code(), marker), lambda: store.queue_code_counts(f))],
        "facets": cache.get(("facets", f.state, marker), lambda: store.queue_facets(f.state)),
    }


def queue_rows(gw: Gateway, params: Mapping[str, str], clock: LocalTime | None = None,
               limit: int = EXPORT_MAX_ROWS) -> Iterator[dict[str, Any]]:
    """Every row of the queue view ``params`` describe (its filters and sort, all pages), for an export."""
    f = parse_filter(params, clock)
    sort = params.get("sort") if (params.get("sort") or "").lstrip("-") in SORTS else None
    offset = 0
    while offset < limit:
        docs = gw.store.queue_page(f, min(1000, limit - offset), offset, sort)
        if not docs:
            return
        assigned = gw.store.assignments([d.id for d in docs])
        for doc in docs:
            yield doc.summary() | {"finding_count": doc.error_count, "assigned_to": assigned.get(doc.id)}
        offset += len(docs)


def document(gw: Gateway, document_id: str) -> dict[str, Any] | None:
    """One document: summary, findings by severity (with the line they point at), canonical record,
    links in both directions, deliveries and the full audit trail."""
    store = gw.store
    doc = store.get(document_id)
    if doc is None:
        return None
    data = doc.summary()
    data["declared_kind"] = doc.declared_kind
    data["parent_id"] = doc.parent_id
    findings = by_severity(store.findings(doc.id))
    data["findings"] = [f.to_dict() | {"line": source_view.finding_line(f),
                                       "attribute": source_view.finding_attribute(f)} for f in findings]
    data["record"] = doc.record
    linked = links(store, doc, both_ways=True)
    others = {d.id: d for d in store.documents_by_ids(sorted({link["id"] for link in linked}))}
    data["links"] = [{"role": link["role"], "id": other.id, "kind": other.kind, "state": other.state,
                      "filename": other.filename, "received_at": other.received_at,
                      "business_key": other.business_key}
                     for link in linked if (other := others.get(link["id"])) is not None]
    data["deliveries"] = [d.to_dict() for d in store.deliveries(doc.id)]
    data["audit"] = [a.to_dict() for a in store.audit_trail(doc.id)]
    data["notes"] = [a for a in data["audit"] if a["action"] == "note"]
    data["assigned_to"] = store.assignments([doc.id]).get(doc.id)
    return data


def original(gw: Gateway, sha256: str) -> bytes | None:
    try:
        return gw.archive.read(sha256)
    except OSError:
        return None


def overview(gw: Gateway, days: int = 7, clock: LocalTime | None = None) -> dict[str, Any]:
    """Counts over the last ``days`` days: local days of ``clock``'s zone (UTC days without one)."""
    clock = clock or LocalTime("UTC")
    first_day = clock.today() - timedelta(days=days - 1)
    raw = gw.store.overview(clock.day_start(first_day))
    by_hour: dict[tuple[str, str], int] = {}
    for hour, state, count in raw["by_day"]:
        key = (clock.day_of(hour), state)
        by_hour[key] = by_hour.get(key, 0) + count
    by_day = sorted(((day, state, n) for (day, state), n in by_hour.items()), key=lambda r: (r[0], r[1]))
    by_day.sort(key=lambda r: r[0], reverse=True)
    return {
        "days": days, "since": first_day.isoformat(), "timezone": clock.name,
        "by_day": _pivot(by_day), "by_kind": _pivot(raw["by_kind"]), "by_source": _pivot(raw["by_source"]),
        "states": [s for s in STATES if any(r[1] == s for r in raw["by_day"])],
        "health": (snap := health.snapshot(gw.store, gw.settings.node, gw.settings.lease_ttl)),
        "coordinators": [lease["holder"] for lease in snap["leases"] if lease["name"] == "coordinator"
                         and lease["seconds_left"] > 0],
        "dead_letters": gw.store.dead_letter_count(),
        "totals": gw.store.counts_by_state(),
        "immex": immex_panel.panel(gw.store),
        "answers": answers_overview(gw),
        "catalog_warnings": _catalog_warnings(gw),
    }


def _catalog_warnings(gw: Gateway) -> list[str]:
    """SAT catalogs older than ``[validation] catalog_max_age``: the overview shows each line."""
    if gw.settings.catalog_max_age is None:
        return []
    from gateway.kinds.cfdi.catalog_info import warnings

    return warnings(gw.settings.catalogs_dir, gw.settings.catalog_max_age)


def answers_overview(gw: Gateway) -> list[dict[str, Any]]:
    """Per source that answers its senders: where, on which verdicts, the last answer and any not written.

    Read from the configuration and the store only: the web process never builds a source (an SFTP source's
    start-up clears its staging folder, which belongs to the ``run`` process)."""
    written = {row["source_name"]: row for row in gw.store.answers_by_source()}
    rows = []
    for source in gw.settings.sources:
        reply_path = source.options.get("reply_path")
        if not reply_path:
            continue
        host = source.options.get("host")
        figures = written.get(source.name, {})
        rows.append({"source": source.name, "to": f"sftp://{host}{reply_path}" if host else str(reply_path),
                     "reply_on": ", ".join(source.reply_on), "language": source.reply_language,
                     "written": figures.get("written") or 0, "waiting": figures.get("waiting") or 0,
                     "last_written_at": figures.get("last_written_at"), "last_error": figures.get("last_error")})
    return rows


def _pivot(rows: list[tuple[Any, ...]]) -> list[dict[str, Any]]:
    """[(row label, state, count)] → [{"key": label, "counts": {state: count}, "total": n}] in order."""
    table: dict[Any, dict[str, int]] = {}
    for key, state, count in rows:
        table.setdefault(key, {})[state] = count
    return [{"key": key, "counts": counts, "total": sum(counts.values())} for key, counts in table.items()]
