"""Correlation: pedimento ⇄ COVE ⇄ CFDI groups and their cross-document (XDOC) checks.

``correlate`` is the engine (keys stored, groups walked, verdicts applied in the caller's transaction),
``checks`` the XDOC rules over a complete group, ``views`` the read-only views of each kind's record they
compare. The engine names no kind: a document's keys and whether it waits to be claimed come from its kind
(``DocumentKind.correlation_keys`` / ``waits_to_be_claimed``, keys in ``gateway.kinds.keys``); kinds never
import this package (``tests/test_import_contracts.py``).
"""
