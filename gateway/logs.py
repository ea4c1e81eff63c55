"""structlog set-up: JSON lines for machines, readable lines for people, never a secret in either.

``[logging] format``: ``json`` writes one JSON object per line (``timestamp``, ``level``, ``event``, ``node``
always; ``document_id``, ``source``, ``sink`` whenever the line concerns one), UTF-8 as written (``señal``,
not ``se\\u00f1al``) for log shippers; ``console`` writes the same fields for a person; ``auto`` is JSON unless
stderr is a terminal.

Messages carry ids, states, codes and file names, never document contents. Secrets never reach the output,
whatever a caller passes: values of keys that name a secret (``token``, ``password``…), passwords in URLs
(``postgresql://user:…@host``), ``Bearer`` credentials and every value registered with :func:`hide` (tokens,
passwords and passphrases as adapters read them) are replaced by ``***`` in the last step before rendering —
in messages, fields and tracebacks alike.
"""

from __future__ import annotations

import json
import logging
import re
import socket
import sys
from functools import partial
from typing import Any

import structlog

_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}
MASK = "***"
_SECRET_KEY = re.compile(r"token|password|passwd|passphrase|secret|authorization|cookie|api_?key|credential",
                         re.IGNORECASE)
_URL_PASSWORD = re.compile(r"(\b[a-zA-Z][a-zA-Z0-9+.-]*://[^:/@\s]*:)[^@\s/]+@")
#: an Authorization header's credentials as servers quote them ("Bearer eyJ…"), not prose ("bearer token")
_BEARER = re.compile(r"(\b(?:Bearer|Basic)\s+)[A-Za-z0-9._~+/=-]{8,}")
_hidden: set[str] = set()


def hide(secret: str | None) -> None:
    """Never log ``secret`` (a token, password or passphrase just read from the environment or a file)."""
    if secret and len(secret) >= 4:  # shorter values would mask ordinary words
        _hidden.add(secret)
        match = _URL_PASSWORD.search(secret)  # a database URL: its password alone, wherever it shows up
        if match:
            hide(secret[match.end(1):match.end() - 1])


def redact_text(text: str) -> str:
    """``text`` with URL passwords, bearer credentials and registered secrets replaced by ``***``."""
    for secret in _hidden:
        if secret in text:
            text = text.replace(secret, MASK)
    text = _URL_PASSWORD.sub(rf"\g<1>{MASK}@", text)
    return _BEARER.sub(rf"\g<1>{MASK}", text)


def _redact_value(value: Any) -> Any:
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {k: MASK if _SECRET_KEY.search(str(k)) and v else _redact_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_redact_value(v) for v in value]
    if isinstance(value, (int, float, bool)) or value is None:
        return value
    return redact_text(str(value))  # exceptions, paths, objects: as they would be rendered


def redact(logger: Any, method: str, event_dict: dict[str, Any]) -> dict[str, Any]:  # noqa: ARG001
    """structlog processor: the last step before rendering (see the module docstring)."""
    return _redact_value(event_dict)


def _name_the_component(logger: Any, method: str, event_dict: dict[str, Any]) -> dict[str, Any]:  # noqa: ARG001
    """``component="sink", name="x"`` (health lines) is also ``sink="x"``, so one filter finds every line."""
    component = event_dict.get("component")
    if component in ("source", "sink") and "name" in event_dict and component not in event_dict:
        event_dict[component] = event_dict["name"]
    return event_dict


def configure(level: str = "info", fmt: str = "auto", node: str | None = None) -> None:
    """Route the gateway's log lines to stderr at ``level`` in ``fmt`` (json, console or auto)."""
    use_json = fmt == "json" or (fmt == "auto" and not sys.stderr.isatty())
    if use_json:
        renderer: Any = structlog.processors.JSONRenderer(serializer=partial(json.dumps, ensure_ascii=False))
    else:
        renderer = structlog.dev.ConsoleRenderer(colors=False, pad_event=40)
    steps: list[Any] = [
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _add_node(node or socket.gethostname()),
        _name_the_component,
        structlog.processors.format_exc_info,
        redact,
    ]
    structlog.configure(
        processors=[structlog.contextvars.merge_contextvars, *steps, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(_LEVELS.get(level, logging.INFO)),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )
    _route_library_logs(steps, renderer, max(_LEVELS.get(level, logging.INFO), logging.WARNING))


def _route_library_logs(steps: list[Any], renderer: Any, level: int) -> None:
    """Records of Python's ``logging`` (uvicorn, httpx…) in the same format, through the same mask.

    At warning and above only: their info lines (one per HTTP request…) would drown the gateway's own.
    """
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[structlog.stdlib.add_logger_name, *steps],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer]))
    handler.set_name("immex-gateway")
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == "immex-gateway"]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)


def _add_node(node: str) -> Any:
    def add_node(logger: Any, method: str, event_dict: dict[str, Any]) -> dict[str, Any]:  # noqa: ARG001
        event_dict.setdefault("node", node)
        return event_dict

    return add_node


def get(name: str = "gateway") -> structlog.stdlib.BoundLogger:
    return structlog.get_logger(name)
