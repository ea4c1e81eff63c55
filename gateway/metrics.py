"""Prometheus text exposition of what the store knows (served at ``/metrics``).

Read from the store rather than from process counters, so that ``serve`` reports the
documents that ``run`` processed, and the figures survive restarts.
"""

from __future__ import annotations

from gateway.store.base import Store


def _labels(**values: str | None) -> str:
    inner = ",".join(f'{k}="{_escape(v or "")}"' for k, v in values.items())
    return "{" + inner + "}"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def render(store: Store) -> str:
    lines = [
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
    lines += ["# HELP immex_component_healthy 1 when a source or sink is healthy.",
              "# TYPE immex_component_healthy gauge"]
    for c in store.health():
        lines.append(f"immex_component_healthy{_labels(component=c['component'], name=c['name'])} "
                     f"{int(c['healthy'])}")
    return "\n".join(lines) + "\n"
