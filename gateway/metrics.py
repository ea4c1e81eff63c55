"""Prometheus text exposition of what the store knows (served at ``/metrics``).

Read from the store rather than from process counters, so that ``serve`` reports the
documents that ``run`` processed, and the figures survive restarts.
"""

from __future__ import annotations

from gateway.store.base import CoreStore as Store


def _labels(**values: str | None) -> str:
    inner = ",".join(f'{k}="{_escape(v or "")}"' for k, v in values.items())
    return "{" + inner + "}"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def render(store: Store, node: str | None = None) -> str:
    lines = []
    if node is not None:
        lines += ["# HELP immex_node_info The gateway node answering this scrape.", "# TYPE immex_node_info gauge",
                  f"immex_node_info{_labels(node=node)} 1"]
    lines += [
        "# HELP immex_documents Documents in the store by kind and state.",
        "# TYPE immex_documents gauge",
    ]
    for kind, state, count in store.counts_by_kind_and_state():
        lines.append(f"immex_documents{_labels(kind=kind, state=state)} {count}")
    deliveries = store.delivery_counts()
    lines += ["# HELP immex_deliveries Outbox rows by sink and state (pending, delivered, dead).",
              "# TYPE immex_deliveries gauge"]
    lines += [f"immex_deliveries{_labels(sink=sink, state=state)} {rows}" for sink, state, rows, _ in deliveries]
    lines += ["# HELP immex_delivery_attempts Delivery attempts recorded, by sink and outbox state.",
              "# TYPE immex_delivery_attempts gauge"]
    lines += [f"immex_delivery_attempts{_labels(sink=sink, state=state)} {attempts}"
              for sink, state, _, attempts in deliveries]
    lines += _delivery_figures(store)
    lines += _immex_figures(store)
    lines += ["# HELP immex_component_healthy 1 when a source or sink is healthy.",
              "# TYPE immex_component_healthy gauge"]
    for c in store.health():
        lines.append(f"immex_component_healthy{_labels(component=c['component'], name=c['name'])} "
                     f"{int(c['healthy'])}")
    lines += ["# HELP immex_lease_seconds_left Seconds left on a lease (negative: expired), by lease and node.",
              "# TYPE immex_lease_seconds_left gauge"]
    lines += [f"immex_lease_seconds_left{_labels(lease=lease['name'], node=lease['holder'])} "
              f"{lease['seconds_left']:.1f}" for lease in store.leases()]
    nodes = store.nodes()
    lines += ["# HELP immex_node_heartbeat_age_seconds Seconds since each node's last heartbeat (database clock).",
              "# TYPE immex_node_heartbeat_age_seconds gauge"]
    lines += [f"immex_node_heartbeat_age_seconds{_labels(node=n['node'])} {n['seconds_since_heartbeat']:.1f}"
              for n in nodes]
    lines += ["# HELP immex_node_claims Documents and deliveries each node has claimed and is working on.",
              "# TYPE immex_node_claims gauge"]
    lines += [f"immex_node_claims{_labels(node=n['node'])} {n['claims']}" for n in nodes]
    return "\n".join(lines) + "\n"


def _immex_figures(store: Store) -> list[str]:
    """Temporary-import partidas still to return by how soon their deadline comes (gateway/deadlines.py)."""
    from datetime import UTC, datetime

    from gateway import deadlines

    figures = deadlines.counts(store, datetime.now(UTC).date())
    lines = ["# HELP immex_partidas_expiring Temporary-import partidas with quantity left to return whose deadline "
             "falls within the next N days (early warning from the documents seen, not the Annex 24 balance).",
             "# TYPE immex_partidas_expiring gauge"]
    lines += [f"immex_partidas_expiring{_labels(within_days=str(days))} {figures[str(days)]}"
              for days in deadlines.WINDOWS]
    lines += ["# HELP immex_partidas_overdue Temporary-import partidas past their deadline with quantity left.",
              "# TYPE immex_partidas_overdue gauge", f"immex_partidas_overdue {figures['overdue']}"]
    return lines


#: Upper bounds (seconds) of the delivery latency histogram: from taking the file to the sink's acknowledgement.
LATENCY_BUCKETS = (0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 6 * 3600, 24 * 3600)


def _delivery_figures(store: Store) -> list[str]:
    """Lifetime attempts, retries and dead letters per sink, and the received → delivered latency."""
    totals = store.delivery_totals()
    lines = ["# HELP immex_delivery_attempts_total Delivery attempts made, by sink (operator retries included).",
             "# TYPE immex_delivery_attempts_total counter"]
    lines += [f"immex_delivery_attempts_total{_labels(sink=sink)} {attempts}" for sink, attempts, _, _ in totals]
    lines += ["# HELP immex_delivery_retries_total Failed attempts that were tried again, by sink.",
              "# TYPE immex_delivery_retries_total counter"]
    lines += [f"immex_delivery_retries_total{_labels(sink=sink)} {retries}" for sink, _, retries, _ in totals]
    lines += ["# HELP immex_delivery_dead_letters_total Deliveries given up and sent to the rejected queue, by sink.",
              "# TYPE immex_delivery_dead_letters_total counter"]
    lines += [f"immex_delivery_dead_letters_total{_labels(sink=sink)} {dead}" for sink, _, _, dead in totals]
    lines += ["# HELP immex_delivery_latency_seconds From receiving the file to the sink accepting the document.",
              "# TYPE immex_delivery_latency_seconds histogram"]
    for sink, counts, total, count in store.delivery_latency(LATENCY_BUCKETS):
        for bound, cumulative in zip(LATENCY_BUCKETS, counts, strict=True):
            lines.append(f"immex_delivery_latency_seconds_bucket{_labels(sink=sink, le=f'{bound:g}')} {cumulative}")
        lines.append(f"immex_delivery_latency_seconds_bucket{_labels(sink=sink, le='+Inf')} {count}")
        lines.append(f"immex_delivery_latency_seconds_sum{_labels(sink=sink)} {total:.6f}")
        lines.append(f"immex_delivery_latency_seconds_count{_labels(sink=sink)} {count}")
    return lines
