"""The cadena original without libxslt: SAT's own XSLT read once into a plan that Python walks.

Why: running SAT's ``cadenaoriginal_4_0.xslt`` through libxslt costs more per invoice than the whole XSD
check (profile in bench/README.md): libxslt matches templates against every node it visits, copies the
parameters of each ``Requerido``/``Opcional`` call and builds a result tree. SAT's stylesheets are written in a
very small dialect — per element, attributes in a fixed order each through ``Requerido`` (always ``|`` and
the normalised value) or ``Opcional`` (only when the attribute is present), then child elements by name — so
the plan is read **from SAT's files themselves** (no list of attributes is copied into this code) and walked
with plain attribute reads.

Anything outside that dialect is not guessed at: a template this module cannot read is marked, and a document
that reaches one raises
``Unsupported``; ``SealVerifier`` then runs libxslt for that document, as before. tests/test_differential.py
holds both paths to the same string on every sample and a generated corpus.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from lxml import etree

XSL = "http://www.w3.org/1999/XSL/Transform"
_XSL_PREFIX = f"{{{XSL}}}"  # the Clark prefix of XSLT's elements (a tag read as a string, no QName built)
_SPACES = re.compile(r"[ \t\r\n]+")


class Unsupported(Exception):
    """This document needs a construct the plan does not cover: run the stylesheet with libxslt."""


# a step of a template's body, one of:
#   ("attr", name, required)            Requerido / Opcional of ./@name (run as ("attrs", ((name, required), …)))
#   ("apply", path)                     apply-templates to the elements at path (Clark tags; [] = the context)
#   ("each", path, descendants, steps)  for-each (descendants: .//tag)
#   ("text", literal)
Step = tuple[Any, ...]

_UNREADABLE: list[Step] = []  # the marker body of a template the plan could not read


class CadenaPlan:
    """One stylesheet (with its includes) as {element tag: steps}, plus the steps of ``match="/"``."""

    def __init__(self, path: Path) -> None:
        self.templates: dict[str, list[Step]] = {}
        self.root: list[Step] | None = None
        self._broken = False
        self._load(path, set())
        if self._broken:
            self.root = _UNREADABLE
        # what ``run`` walks: the same steps with each run of attribute steps as one ("attrs", ((name, required), …))
        self._compiled = {tag: _merged(steps) for tag, steps in self.templates.items()}
        self._root = _merged(self.root) if self.root is not None else None

    def _load(self, path: Path, seen: set[Path]) -> None:
        path = path.resolve()
        if path in seen:
            return
        seen.add(path)
        sheet = etree.parse(str(path), etree.XMLParser(resolve_entities=False, no_network=True)).getroot()
        for child in sheet:
            if not isinstance(child.tag, str) or not child.tag.startswith(_XSL_PREFIX):
                continue
            local = child.tag[len(_XSL_PREFIX):]
            if local == "include":
                self._load(path.parent / child.get("href", ""), seen)
            elif local == "template" and child.get("match") is not None:
                match = child.get("match", "")
                try:
                    if child.get("mode") is not None or child.get("priority") is not None:
                        raise Unsupported("a template with a mode or a priority")
                    body = _body(child)
                except Unsupported:
                    body = _UNREADABLE
                if match == "/":
                    self.root = body
                    continue
                tag = _clark(match, child)
                # two templates for one element: libxslt's choice would be a guess here
                self.templates[tag] = _UNREADABLE if tag in self.templates else body
            elif local not in ("output", "template"):  # xsl:import, strip-space, key…: rules the plan lacks
                self._broken = True

    def run(self, context: etree._Element) -> str:
        """The cadena of the document ``context`` is the root element of."""
        if self._root is None or self._root is _UNREADABLE:
            raise Unsupported("no readable template for /")
        out: list[str] = []
        self._steps(self._root, context, out, at_root=True)
        return "".join(out)

    def _steps(self, steps: list[Step], node: etree._Element, out: list[str], at_root: bool = False) -> None:
        get = node.get
        groups: dict[object, list[etree._Element]] | None = None  # the children by tag, read once per node
        append = out.append
        for step in steps:
            kind = step[0]
            if kind == "attrs":  # XPath's normalize-space, inlined: XML's four whitespace characters only
                for name, required in step[1]:
                    value = get(name)
                    if value is not None:
                        if "  " in value or not value.isprintable():  # a tab, a line break, a double space…
                            append("|" + _SPACES.sub(" ", value).strip(" \t\r\n"))
                        else:
                            append("|" + value.strip(" "))
                    elif required:
                        append("|")
            elif kind == "text":
                out.append(step[1])
            else:
                path: list[str] = step[1]
                if at_root:  # "/cfdi:Comprobante" from the document node: the root element, when its tag fits
                    if len(path) != 1 or kind != "apply":
                        raise Unsupported("a path from / this plan does not read")
                    targets = [node] if node.tag == path[0] else []
                elif kind == "each" and step[2]:
                    targets = list(node.iterdescendants(path[0]))
                elif not path:
                    targets = [node]
                elif path[0] == "*":  # in document order, whatever their tags
                    targets = [child for child in node if isinstance(child.tag, str)]
                else:
                    if groups is None:
                        groups = {}
                        for child in node:
                            groups.setdefault(child.tag, []).append(child)
                    targets = groups.get(path[0], [])
                for tag in path[1:]:
                    targets = [child for parent in targets for child in parent if child.tag == tag]
                if kind == "apply":
                    for target in targets:
                        self._apply(target, out)
                else:
                    for target in targets:
                        self._steps(step[3], target, out)

    def _apply(self, node: etree._Element, out: list[str]) -> None:
        steps = self._compiled.get(node.tag)
        if steps is None:  # XSLT's built-in rule: the text inside, templates applied to the elements inside
            if node.text:
                out.append(node.text)
            for child in node:
                if isinstance(child.tag, str):
                    self._apply(child, out)
                if child.tail:
                    out.append(child.tail)
        elif steps is _UNREADABLE:
            raise Unsupported(f"no readable template for {node.tag}")
        else:
            self._steps(steps, node, out)


def _merged(steps: list[Step]) -> list[Step]:
    """``steps`` with consecutive ("attr", name, required) steps as one ("attrs", ((name, required), …)) step."""
    if steps is _UNREADABLE:
        return steps
    merged: list[Step] = []
    for step in steps:
        if step[0] == "attr":
            if merged and merged[-1][0] == "attrs":
                merged[-1] = ("attrs", (*merged[-1][1], (step[1], step[2])))
            else:
                merged.append(("attrs", ((step[1], step[2]),)))
        elif step[0] == "each":
            merged.append(("each", step[1], step[2], _merged(step[3])))
        else:
            merged.append(step)
    return merged


def _clark(name: str, where: etree._Element) -> str:
    """``cfdi:Emisor`` (prefixes of the stylesheet element ``where``) as ``{namespace}Emisor``."""
    if name == "*":
        return "*"
    if not re.fullmatch(r"[A-Za-z_][\w.-]*:[^\W\d][\w.-]*", name):
        raise Unsupported(f"a pattern this plan does not read: {name}")
    prefix, local = name.split(":")
    namespace = where.nsmap.get(prefix)
    if namespace is None:
        raise Unsupported(f"unknown prefix {prefix}")
    return f"{{{namespace}}}{local}"


def _path(select: str, where: etree._Element) -> tuple[list[str], bool]:
    """``./a:B/a:C``, ``.//a:B``, ``./*``, ``/a:B`` or ``.`` as (tags, descendants)."""
    if select == ".":
        return [], False
    if select.startswith(".//"):
        return [_clark(select[3:], where)], True
    if select.startswith("./"):
        return [_clark(part, where) for part in select[2:].split("/")], False
    if select.startswith("/") and "/" not in select[1:]:
        return [_clark(select[1:], where)], False
    raise Unsupported(f"a select this plan does not read: {select}")


def _body(template: etree._Element) -> list[Step]:
    """A template's (or ``for-each``'s, ``if``'s) content as steps; ``Unsupported`` for anything else."""
    steps: list[Step] = []
    if template.text and template.text.strip():
        steps.append(("text", template.text))
    for node in template:
        if not isinstance(node.tag, str) or not node.tag.startswith(_XSL_PREFIX):
            raise Unsupported("a literal element or a comment in a template")
        local = node.tag[len(_XSL_PREFIX):]
        if local == "call-template" and node.get("name") in ("Requerido", "Opcional"):
            params = [p for p in node if isinstance(p.tag, str)]
            select = params[0].get("select", "") if len(params) == 1 else ""
            if params[0].get("name") != "valor" or not re.fullmatch(r"\./@[^\W\d][\w.-]*", select):
                raise Unsupported(f"a call this plan does not read: {select}")
            steps.append(("attr", select[3:], node.get("name") == "Requerido"))
        elif local == "apply-templates" and len(node) == 0:
            path, descendants = _path(node.get("select", ""), node)
            if descendants:
                raise Unsupported("apply-templates over descendants")
            steps.append(("apply", path))
        elif local == "for-each":
            path, descendants = _path(node.get("select", ""), node)
            steps.append(("each", path, descendants, _body(node)))
        elif local == "if" and re.fullmatch(r"\./[^\W\d][\w.-]*:[^\W\d][\w.-]*", node.get("test", "")):
            # <xsl:if test="./p:X"> around <xsl:apply-templates select="./p:X"/>: the same nodes, none or some
            inner = _body(node)
            path, _ = _path(node.get("test", ""), node)
            if inner != [("apply", path)]:
                raise Unsupported("an xsl:if this plan does not read")
            steps.extend(inner)
        else:
            raise Unsupported(f"xsl:{local} is not read by this plan")
        if node.tail and node.tail.strip():
            steps.append(("text", node.tail))
    return steps
