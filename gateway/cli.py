"""The ``immex-gateway`` command line (DESIGN §4): parse arguments, call the core, print."""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gateway import limits, logs
from gateway.config import Settings, load, parse_duration
from gateway.findings import Finding, Severity, by_severity
from gateway.report import finding_line as _finding_line
from gateway.report import shown

if TYPE_CHECKING:
    from gateway.library import Validator
    from gateway.runtime import Runtime

DEFAULT_CONFIG = "config/gateway.toml"


def main(argv: list[str] | None = None) -> int:
    for stream in (sys.stdout, sys.stderr):  # a lone surrogate in a value or a file name is escaped, never a crash
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="backslashreplace")
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return args.func(args)
    except (Exception, KeyboardInterrupt) as exc:  # an operator's mistake ends in one line (gateway/exits.py)
        from gateway.exits import explain

        failure = explain(exc)
        if failure is None:
            raise  # a defect of the gateway: the traceback is what a bug report needs
        code, message = failure
        print(message, file=sys.stderr)
        return code


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="immex-gateway", description="IMMEX document gateway")
    parser.add_argument("--version", action="version", version=f"immex-gateway {_version()}")
    sub = parser.add_subparsers(dest="command")

    def with_config(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
        p.add_argument("-c", "--config", default=os.environ.get("IMMEX_GATEWAY_CONFIG", DEFAULT_CONFIG),
                       help=f"configuration file (default: $IMMEX_GATEWAY_CONFIG or {DEFAULT_CONFIG})")
        return p

    run = with_config(sub.add_parser("run", help="run sources, pipeline and sinks"))
    run.add_argument("--once", action="store_true", help="take what is present now, process, deliver, exit")
    run.set_defaults(func=cmd_run)

    validate = sub.add_parser("validate", help="check files standalone (no store needed)")
    validate.add_argument("files", nargs="+", type=Path)
    validate.add_argument("--kind", default="auto", help="auto (default), cfdi, …")
    validate.add_argument("--json", action="store_true", help="machine-readable output")
    validate.add_argument("--certs", action="append", type=Path, default=[],
                          help="directory of SAT stamping certificates (repeatable)")
    validate.add_argument("-c", "--config", default=None, help="take certificate directories from this config")
    validate.add_argument("--rows", type=int, default=10, help="erp:NAME: canonical rows to preview (default 10)")
    validate.add_argument("--workers", type=_workers, default=0,
                          help="procesos que validan a la vez / worker processes (default: [gateway] workers, "
                               "or one per core)")
    validate.set_defaults(func=cmd_validate)

    config_ = sub.add_parser("config", help="the configuration file")
    config_sub = config_.add_subparsers(dest="config_command")
    ccheck = with_config(config_sub.add_parser(
        "check", help="check every key, folder, certificate, SAT list, mapping and adapter without starting"))
    ccheck.add_argument("--connect", action="store_true",
                        help="also open the store and try each server (SFTP host key, HTTP, SQL)")
    ccheck.add_argument("--json", action="store_true", help="machine-readable output")
    ccheck.set_defaults(func=cmd_config_check)

    mappings = sub.add_parser("mappings", help="ERP export mappings (mappings/*.toml)")
    msub = mappings.add_subparsers(dest="mappings_command")
    mcheck = msub.add_parser("check", help="check mapping files against the schema; errors name the key")
    mcheck.add_argument("files", nargs="+", type=Path)
    mcheck.add_argument("--json", action="store_true")
    mcheck.set_defaults(func=cmd_mappings_check)

    queue = sub.add_parser("queue", help="the rejected-document queue")
    qsub = queue.add_subparsers(dest="queue_command")
    qlist = with_config(qsub.add_parser("list", help="rejected documents, newest first"))
    qlist.add_argument("--status", default="rejected", help="state to list (default: rejected)")
    qlist.add_argument("--json", action="store_true")
    qlist.set_defaults(func=cmd_queue_list)
    qshow = with_config(qsub.add_parser("show", help="one document with findings and history"))
    qshow.add_argument("id")
    qshow.add_argument("--json", action="store_true")
    qshow.set_defaults(func=cmd_queue_show)
    qretry = with_config(qsub.add_parser("retry", help="process again (or re-deliver a dead letter)"))
    qretry.add_argument("ids", nargs="+", metavar="ID")
    qretry.add_argument("--reason", default=None)
    qretry.set_defaults(func=cmd_queue_retry)
    qreplace = with_config(qsub.add_parser("replace", help="replace with a corrected file"))
    qreplace.add_argument("id")
    qreplace.add_argument("file", type=Path)
    qreplace.add_argument("--reason", default=None)
    qreplace.add_argument("--confirm-other-document", action="store_true",
                          help="the file is another document (another UUID or pedimento) than the rejected one")
    qreplace.set_defaults(func=cmd_queue_replace)
    qdiscard = with_config(qsub.add_parser("discard", help="discard with a reason"))
    qdiscard.add_argument("id")
    qdiscard.add_argument("--reason", required=True)
    qdiscard.set_defaults(func=cmd_queue_discard)
    qundo = with_config(qsub.add_parser("undo-discard", help="undo a discard: back to the rejected queue"))
    qundo.add_argument("id")
    qundo.add_argument("--reason", default=None)
    qundo.set_defaults(func=cmd_queue_undo_discard)

    documents = sub.add_parser("documents", help="all documents")
    dsub = documents.add_subparsers(dest="documents_command")
    dlist = with_config(dsub.add_parser("list", help="every document with kind, state, source, sha256"))
    dlist.add_argument("--state", default=None)
    dlist.add_argument("--json", action="store_true")
    dlist.set_defaults(func=cmd_documents_list)

    deadlines = with_config(sub.add_parser("deadlines", help="IMMEX temporary imports whose return deadline is near"))
    deadlines.add_argument("--within", default="90d", help="window from today: 30d, 90d, 180d… (default 90d)")
    deadlines.add_argument("--json", action="store_true", help="machine-readable output")
    deadlines.set_defaults(func=cmd_deadlines)

    serve = with_config(sub.add_parser("serve", help="web page and JSON API of the rejected-document queue"))
    serve.add_argument("--host", default=None, help="address to listen on (default: web.host or 127.0.0.1)")
    serve.add_argument("--port", type=int, default=None, help="port (default: web.port or 8080)")
    serve.set_defaults(func=cmd_serve)

    users = sub.add_parser("users", help="users of the web page and API tokens")
    usub = users.add_subparsers(dest="users_command")
    uadd = with_config(usub.add_parser("add", allow_abbrev=False,  # no "--password" prefix on the command line
                                       help="add a user (password from a prompt, $IMMEX_GATEWAY_PASSWORD "
                                            "or --password-file)"))
    uadd.add_argument("name")
    uadd.add_argument("--role", required=True, choices=["viewer", "operator", "admin"])
    uadd.add_argument("--password-file", type=Path, default=None, help="file whose first line is the password")
    uadd.set_defaults(func=cmd_users_add)
    ulist = with_config(usub.add_parser("list", help="users and roles"))
    ulist.set_defaults(func=cmd_users_list)
    urole = with_config(usub.add_parser("role", help="change a user's role, or disable/enable the user"))
    urole.add_argument("name")
    urole.add_argument("role", choices=["viewer", "operator", "admin", "disabled", "enabled"])
    urole.set_defaults(func=cmd_users_role)
    upass = with_config(usub.add_parser("password", allow_abbrev=False,
                                        help="set a new password (prompt, $IMMEX_GATEWAY_PASSWORD or --password-file); "
                                             "ends the user's sessions"))
    upass.add_argument("name")
    upass.add_argument("--password-file", type=Path, default=None)
    upass.set_defaults(func=cmd_users_password)
    utoken = with_config(usub.add_parser("token", help="create an API token for a user (printed once)"))
    utoken.add_argument("name")
    utoken.add_argument("--label", default=None)
    utoken.add_argument("--scope", choices=["read", "metrics", "act"], default="read",
                        help="read: the API's reads and /metrics; metrics: /metrics only; act: what the role allows")
    utoken.add_argument("--expires", default=None, help="lifetime such as 90d or 12h (default: no expiry)")
    utoken.set_defaults(func=cmd_users_token)
    utokens = with_config(usub.add_parser("tokens", help="list API tokens (all, or one user's), or revoke one"))
    utokens.add_argument("name", nargs="?", default=None)
    utokens.add_argument("--revoke", metavar="ID", default=None, help="the id that the listing shows")
    utokens.set_defaults(func=cmd_users_tokens)

    catalogs_ = sub.add_parser("catalogs", help="SAT catalogs used by the CFDI rules and Anexo 22 appendices used by "
                                                "the pedimento rules")
    csub = catalogs_.add_subparsers(dest="catalogs_command")
    cinfo = csub.add_parser("info", help="source, version and row counts of every catalog and SAT list")
    cinfo.add_argument("-c", "--config", default=None, help="also describe the SAT lists this config names")
    cinfo.add_argument("--json", action="store_true", help="machine-readable output")
    cinfo.set_defaults(func=cmd_catalogs_info)
    cimport = with_config(csub.add_parser(
        "import", help="load SAT's published catalog files (catCFDI .xls, Comercio Exterior .xls; .xlsx too) and "
                       "Anexo 22 appendices (the gateway's .json form, an .xlsx/.xls sheet or a .csv per appendix)"))
    cimport.add_argument("files", nargs="+", type=Path, metavar="FILE")
    cimport.add_argument("--force", action="store_true", help="import a catalog older than the one in force")
    cimport.add_argument("--json", action="store_true", help="machine-readable output")
    cimport.set_defaults(func=cmd_catalogs_import)

    init = sub.add_parser("init", help="a starter workspace for your company: commented gateway.toml and folders")
    init.add_argument("dir", type=Path, help="the workspace folder (created if missing)")
    init.add_argument("--rfc", default=None, help="the company's RFC (asked when missing on a terminal)")
    init.add_argument("--program", default=None, help="IMMEX program number, e.g. 1234-2006")
    init.add_argument("--inbox", default=None, help="folder watched for files (default inbox; relative to DIR)")
    init.add_argument("--outbox", default=None, help="folder canonical JSON is written to (default outbox)")
    init.set_defaults(func=cmd_init)

    demo = sub.add_parser("demo", help="set up a demo workspace and run the whole flow")
    demo.add_argument("--dir", type=Path, default=Path("demo-workspace"), help="workspace (default ./demo-workspace)")
    demo.set_defaults(func=cmd_demo)

    receiver = sub.add_parser("receiver", help="reference inventory API: stores what it receives in SQLite")
    from gateway.demo.receiver import add_arguments

    add_arguments(receiver)
    receiver.set_defaults(func=cmd_receiver)
    return parser


def _version() -> str:
    from gateway import __version__

    return __version__


def cmd_receiver(args: argparse.Namespace) -> int:
    from gateway.demo.receiver import serve

    return serve(args)


def _operator() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli:unknown"


def _settings(args: argparse.Namespace) -> Settings:
    from gateway.app import load_settings

    settings = load_settings(args.config)  # the core's sections and every adapter's own keys
    logs.configure(settings.log_level, settings.log_format)
    return settings


def _gateway(args: argparse.Namespace, actor: str | None = None):  # noqa: ANN202
    from gateway.app import Gateway

    return Gateway(_settings(args), actor=actor or "gateway")


# run ------------------------------------------------------------------------------------------------------

def cmd_run(args: argparse.Namespace) -> int:
    from gateway import runner

    gw = _gateway(args)
    try:
        if args.once:
            from gateway.progress import Progress, stage_reporter

            with Progress(0, "tomando archivos") as progress:  # drawn only when stdout is a terminal
                stats = runner.run_once(gw, report=stage_reporter(progress) if progress.enabled else None)
            counts = gw.store.counts_by_state()
            print(json.dumps({"taken": stats.taken, "processed": stats.processed,
                              "delivery_attempts": stats.delivery_attempts, "states": counts,
                              "errors": stats.errors}, ensure_ascii=False))
        else:
            runner.run_forever(gw)
    finally:
        gw.close()
    return 0


def _workers(text: str) -> int:
    """``--workers N``: a whole number ≥ 1 (argparse turns the ValueError into a one-line usage error)."""
    number = int(text)
    if number < 1:
        raise ValueError(text)
    return number


# validate -------------------------------------------------------------------------------------------------

def cmd_validate(args: argparse.Namespace) -> int:
    from gateway.kinds import INTERNAL_KINDS
    from gateway.progress import Progress

    logs.configure("warning", "console")
    if args.kind in INTERNAL_KINDS:
        print(f"--kind {args.kind}: es un tipo interno (las partes que el gateway genera); valide el archivo "
              "original con su tipo (erp:<mapeo>, auto…) / an internal kind: validate the original file",
              file=sys.stderr)
        return 2
    table = load(args.config).limits if args.config else {}
    limits.configure(limits.from_table(table))
    if args.kind.startswith("erp:"):
        return _validate_erp(args)
    from gateway import report
    from gateway.library import setup_worker
    from gateway.workers import Pool, default_workers

    files = [str(path) for path in args.files]
    workers = args.workers or (load(args.config).workers if args.config else default_workers())
    if len(files) < workers and not any(_splits(path, args) for path in files):
        workers = len(files)  # a file checked whole needs one process; a container's parts are spread over all
    with Progress(len(files) if len(files) > 1 else 0, "validando") as progress, \
            Pool(workers, setup_worker, ([str(d) for d in args.certs], args.config, table)) as pool:
        # as it comes when nobody watches a progress line on the same terminal; otherwise once it is erased
        streaming = not progress.enabled
        held: list[str] = []
        writer = report.Writer(sys.stdout, args.json)
        worst = 0
        for ok, rendered in _validated(files, args, pool, progress):
            worst = worst or (0 if ok else 1)
            if streaming:
                for text in rendered:
                    writer.write(text)
            else:
                held.extend(rendered)
    for text in held:
        writer.write(text)
    writer.close()
    return worst


#: the containers ``validate`` splits in this process, so that their parts are checked by every worker
_SPLIT_KINDS = frozenset({"mfile", "datastage", "zip"})


def _splits(path: str, args: argparse.Namespace) -> bool:
    """Whether this file is a container whose parts are spread over the workers (its kind, as detected)."""
    if args.kind != "auto":
        return args.kind in _SPLIT_KINDS
    try:
        with open(path, "rb") as stream:
            head = stream.read(8192)
    except OSError:
        return False  # the worker says so, as an entry
    if head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"<":
        return False  # XML (a CFDI, a COVE) goes whole to a worker: no kind is loaded here to say so
    return _validator(args).kinds.detect(head, Path(path).name) in _SPLIT_KINDS


def _validator(args: argparse.Namespace) -> Validator:
    """This process's validator (detection, and the containers it splits), built once per command."""
    validator = getattr(args, "validator", None)
    if validator is None:
        from gateway.library import Validator

        validator = args.validator = Validator(list(args.certs), args.config)
    return validator


def _validated(files: list[str], args: argparse.Namespace, pool: Any, progress: Any
               ) -> Iterator[tuple[bool, Iterable[str]]]:
    """Each file's (passes, rendered entries), in order: runs of plain files through the workers whole, each
    container split here with its parts through the workers (``library.part_in_worker``)."""
    from gateway.library import validate_in_worker

    run: list[str] = []

    def flush() -> Iterator[tuple[bool, Iterable[str]]]:
        for outcome in pool.map(validate_in_worker, [(path, args.kind, args.json) for path in run]):
            progress.advance()
            yield outcome
        run.clear()

    for path in files:
        if _splits(path, args):
            yield from flush()
            yield _split(path, args, pool)
            progress.advance()
        else:
            run.append(path)
    yield from flush()


def _split(path: str, args: argparse.Namespace, pool: Any) -> tuple[bool, Iterable[str]]:
    """A container checked here and its parts by the workers; the parts' entries wait in a spool file (the
    container's own entry, printed first, is complete only once every part is read) so memory stays flat."""
    from gateway import report

    try:
        return _split_parts(path, args, pool)
    except OSError as exc:  # the file, or an entry streamed from it: as a worker reports a file it cannot read
        return False, [report.render(report.unreadable(path, exc.strerror), args.json)]


def _split_parts(path: str, args: argparse.Namespace, pool: Any) -> tuple[bool, Iterable[str]]:
    import tempfile

    from gateway import report
    from gateway.kinds.base import Part
    from gateway.library import Validation, part_in_worker

    kind, result, parts = _validator(args).opened(Path(path).read_bytes(), Path(path).name, args.kind)

    def items() -> Iterator[tuple[Part, str, bool, str, bool]]:
        for number, (part, name, trusted) in enumerate(parts, start=1):
            if part.kind == "attachment":  # nothing to check: its bytes stay here
                part = Part("attachment", b"", part.label)
            elif part.opener is not None:
                with part.opener() as stream:
                    part = Part(part.kind, stream.read(), part.label, findings=part.findings)
            yield part, name, trusted, f"{path}#{number} {part.label}".rstrip(), args.json

    ok = True
    spool = tempfile.SpooledTemporaryFile(8 << 20, "w+", encoding="utf-8", errors="surrogatepass", newline="")
    try:
        count = 0
        for part_ok, text in pool.map(part_in_worker, items()):
            ok = ok and part_ok
            spool.write(f"{len(text)}\n{text}")
            count += 1
    except BaseException:
        spool.close()
        raise
    outcome = Validation(kind, by_severity(result.findings), result.record)

    def rendered() -> Iterator[str]:  # the container's entry, then its parts' read back one at a time
        with spool:
            yield report.render(report.entry(path, outcome), args.json)
            spool.seek(0)
            for _ in range(count):
                yield spool.read(int(spool.readline()))

    return ok and outcome.ok, rendered()


def _validate_erp(args: argparse.Namespace) -> int:
    """Preview of an ERP export read through its mapping: first canonical rows and every row error."""
    from gateway.kinds.erp import mapping_dirs
    from gateway.kinds.erp.preview import preview

    directories = mapping_dirs(load(args.config).erp_mapping_dirs if args.config else None)
    results = [preview(args.kind, path, directories, args.rows) for path in args.files]
    if args.json:
        print(json.dumps(results, ensure_ascii=False, indent=2))
    else:
        for item in results:
            verdict = "VÁLIDO" if item["valid"] else "RECHAZADO"
            print(f"{shown(item['filename'])}: {verdict} ({item['kind']} → {item['target'] or '?'}; "
                  f"{item['rows']} filas, {item['bad_rows']} con errores)")
            for record in item["preview"]:
                print("  " + json.dumps(record, ensure_ascii=False))
            for f in item["findings"]:
                print("  " + _finding_line(Finding.from_dict(f)))
    return 0 if all(item["valid"] for item in results) else 1


def cmd_config_check(args: argparse.Namespace) -> int:
    from gateway.app import load_settings, probe
    from gateway.config_check import SYMBOLS, exit_code, run_checks
    from gateway.web.settings import web_settings

    settings = load_settings(args.config)  # a key that is wrong, core or adapter's, stops here, named (exit 2)
    logs.configure("error", "console")

    def web() -> str:
        checked = web_settings(settings)
        return f"{checked.host}:{checked.port}"

    checks = run_checks(settings, args.connect, probe, extra={"web": web})
    if args.json:
        print(json.dumps([c.to_dict() for c in checks], ensure_ascii=False, indent=2))
    else:
        print(f"{Path(args.config).resolve()}: claves válidas / keys valid")
        width = max(len(c.subject) for c in checks)
        for c in checks:
            print(f"{SYMBOLS[c.status]} {c.subject:{width}}  {c.message}")
    return exit_code(checks)


def cmd_mappings_check(args: argparse.Namespace) -> int:
    from gateway.kinds.erp.preview import check_mapping

    results = [check_mapping(path) for path in args.files]
    if args.json:
        print(json.dumps(results, ensure_ascii=False, indent=2))
    else:
        for item in results:
            if item["valid"]:
                print(f"{item['file']}: VÁLIDO ({item['format']} → {item['target']}, {len(item['fields'])} campos, "
                      f"filas con errores: {item['on_bad_row']})")
            else:
                print(f"{item['file']}: INVÁLIDO")
                for problem in item["problems"]:
                    print(f"  {problem['key'] or '(archivo)'}: {problem['message']}")
    return 0 if all(item["valid"] for item in results) else 1


# queue and documents --------------------------------------------------------------------------------------

def cmd_queue_list(args: argparse.Namespace) -> int:
    gw = _gateway(args)
    try:
        docs = gw.store.list_documents([args.status])
        rows = []
        for doc in docs:
            findings = gw.store.findings(doc.id)
            row = doc.summary()
            row["findings"] = [f.to_dict() for f in by_severity(findings)]
            rows.append(row)
    finally:
        gw.close()
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    if not rows:
        print(f"No hay documentos en estado '{args.status}'.")
        return 0
    for row in rows:
        codes = sorted({f["code"] for f in row["findings"] if f["severity"] == "error"})
        print(f"{row['id']}  {row['kind'] or '?':6}  {row['received_at'][:19]}  "
              f"{row['source']}/{shown(row['filename'])}")
        print(f"    {len(codes)} código(s): {', '.join(codes)} — {(row['first_error'] or '')[:140]}")
    return 0


def _show(gw: Runtime, document_id: str) -> dict[str, Any] | None:
    doc = gw.store.get(document_id)
    if doc is None:
        return None
    data = doc.summary()
    data["findings"] = [f.to_dict() for f in by_severity(gw.store.findings(doc.id))]
    data["record"] = doc.record
    data["audit"] = [a.to_dict() for a in gw.store.audit_trail(doc.id)]
    data["deliveries"] = [d.to_dict() for d in gw.store.deliveries(doc.id)]
    data["archive_path"] = str(gw.archive.path_for(doc.sha256))
    from gateway.links import links

    data["links"] = links(gw.store, doc, both_ways=True)
    return data


def cmd_queue_show(args: argparse.Namespace) -> int:
    gw = _gateway(args)
    try:
        data = _show(gw, args.id)
    finally:
        gw.close()
    if data is None:
        print(f"No existe el documento {args.id}.", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(data, ensure_ascii=False, indent=2))
        return 0
    print(f"Documento {data['id']} — {data['kind'] or 'tipo desconocido'} — estado {data['state']}")
    print(f"  archivo: {data['source']}/{shown(data['filename'])}  ({data['size']:,} bytes, sha256 {data['sha256']})")
    print(f"  recibido: {data['received_at']}   original: {data['archive_path']}")
    for link in data["links"]:
        key = f" ({link['kind']} {link['key']})" if link.get("key") else ""
        print(f"  vínculo: {link['role']} {link['id']}{key}")
    if data["findings"]:
        print("Hallazgos:")
        for f in data["findings"]:
            print("  " + _finding_line(Finding.from_dict(f)))
    if data["deliveries"]:
        print("Entregas:")
        for d in data["deliveries"]:
            print(f"  {d['sink']}: {d['state']} ({d['attempts']} intento(s)) {d['last_error'] or ''}")
    print("Historial:")
    for a in data["audit"]:
        reason = f" — {a['reason']}" if a["reason"] else ""
        print(f"  {a['at'][:19]}  {a['actor']:14} {a['action']:10} {a['from_state'] or '-'} → {a['to_state']}{reason}")
    return 0


def cmd_queue_retry(args: argparse.Namespace) -> int:
    from gateway import operations, outbox

    gw = _gateway(args, actor=_operator())
    status = 0
    try:
        for document_id in args.ids:
            try:
                state = operations.retry(gw, document_id, gw.actor, args.reason)
                print(f"{document_id}: {state}")
            except operations.ActionRefused as exc:
                print(f"{document_id}: {exc}", file=sys.stderr)
                status = 1
        outbox.deliver_due(gw)
        for document_id in args.ids:
            doc = gw.store.get(document_id)
            if doc and doc.state == "forwarded":
                print(f"{document_id}: forwarded")
    finally:
        gw.close()
    return status


def cmd_queue_replace(args: argparse.Namespace) -> int:
    from gateway import operations, outbox

    gw = _gateway(args, actor=_operator())
    try:
        new_id = operations.replace(gw, args.id, args.file, gw.actor, args.reason, args.confirm_other_document)
        outbox.deliver_due(gw)
        new = gw.store.get(new_id)
        print(f"{args.id}: replaced by {new_id} ({new.state if new else '?'})")
        return 0
    except operations.ActionRefused as exc:
        print(f"{args.id}: {exc}", file=sys.stderr)
        return 1
    finally:
        gw.close()


def cmd_queue_discard(args: argparse.Namespace) -> int:
    from gateway import operations

    return _queue_action(args, operations.discard, "discarded")


def cmd_queue_undo_discard(args: argparse.Namespace) -> int:
    from gateway import operations

    return _queue_action(args, operations.undo_discard, "rejected")


def _queue_action(args: argparse.Namespace, action: Callable[..., Any], state: str) -> int:
    """One operator action on one document (``action(gw, id, actor, reason)``); a refusal is exit code 1."""
    from gateway import operations

    gw = _gateway(args, actor=_operator())
    try:
        action(gw, args.id, gw.actor, args.reason)
        print(f"{args.id}: {state}")
        return 0
    except operations.ActionRefused as exc:
        print(f"{args.id}: {exc}", file=sys.stderr)
        return 1
    finally:
        gw.close()


def cmd_documents_list(args: argparse.Namespace) -> int:
    gw = _gateway(args)
    try:
        docs = gw.store.list_documents([args.state] if args.state else None)
        rows = [d.summary() | {"findings": [f.to_dict() for f in by_severity(gw.store.findings(d.id))]}
                for d in docs] if args.json else []
    finally:
        gw.close()
    if args.json:  # the documented --json contract (DESIGN §4): the summary keys and findings[], as queue list
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    for d in docs:
        print(f"{d.id}  {d.kind or '?':6}  {d.state:10}  {d.source_name}/{shown(d.filename)}  {d.sha256[:12]}")
    return 0


def cmd_deadlines(args: argparse.Namespace) -> int:
    import re
    from datetime import UTC, datetime

    from gateway import deadlines

    match = re.fullmatch(r"\s*(\d{1,5})\s*d?\s*", args.within)
    if match is None:
        print(f"--within: '{args.within}' debe ser un número de días (90d) / must be a number of days", file=sys.stderr)
        return 2
    days = int(match[1])
    gw = _gateway(args)
    try:
        rows = deadlines.due(gw.store, datetime.now(UTC).date(), days)
    finally:
        gw.close()
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    print(f"Plazos de retorno IMMEX: partidas que vencen en los próximos {days} días (y las vencidas) / IMMEX return "
          f"deadlines within {days} days. Aviso temprano con los documentos que vio el gateway; no es el saldo del "
          "Anexo 24.")
    if not rows:
        print("Ninguna partida por retornar en ese plazo.")
        return 0
    print(f"{'vence':10}  {'días':>5}  {'pedimento':21}  {'partida':>7}  {'fracción':8}  {'importado':>12}  "
          f"{'descargado':>12}  {'restante':>12}  fundamento")
    for r in rows:
        print(f"{r['deadline']:10}  {r['days_left']:>5}  {r['pedimento']:21}  {r['partida']:>7}  "
              f"{r['fraccion'] or '':8}  {r['imported']:>12}  {r['discharged']:>12}  {r['remaining']:>12}  "
              f"{r['basis']}")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from gateway.web.app import serve

    serve(_settings(args), args.host, args.port)
    return 0


def cmd_users_add(args: argparse.Namespace) -> int:
    from gateway.web import users_cli

    return users_cli.add(_gateway(args), args.name, args.role, args.password_file)


def cmd_users_list(args: argparse.Namespace) -> int:
    from gateway.web import users_cli

    return users_cli.listing(_gateway(args))


def cmd_users_role(args: argparse.Namespace) -> int:
    from gateway.web import users_cli

    return users_cli.role(_gateway(args), args.name, args.role)


def cmd_users_password(args: argparse.Namespace) -> int:
    from gateway.web import users_cli

    return users_cli.password(_gateway(args), args.name, args.password_file)


def cmd_users_token(args: argparse.Namespace) -> int:
    from gateway.web import users_cli

    expires = parse_duration(args.expires, "--expires") if args.expires else None
    return users_cli.token(_gateway(args), args.name, args.label, args.scope, expires)


def cmd_users_tokens(args: argparse.Namespace) -> int:
    from gateway.web import users_cli

    return users_cli.tokens(_gateway(args), args.name, args.revoke)


def cmd_catalogs_info(args: argparse.Namespace) -> int:
    from gateway.kinds.cfdi.catalog_info import describe

    settings = None
    if args.config:
        from gateway.kinds.satcatalogs import shared

        gw = _gateway(args, actor="catalogs")
        try:
            settings = gw.settings
            assert settings.catalogs_dir is not None
            shared.sync(gw.store, settings.catalogs_dir)  # what every node uses: the store's newest set
        finally:
            gw.close()
    report = describe(settings.sat_data_files if settings else {}, settings.catalogs_dir if settings else None)
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
        return 0
    for entry in report["catalogs"]:
        print(f"{entry['source']}" + (f" ({entry['version']})" if entry.get("version") else ""))
        print(f"  {entry['path']}")
        for name, count in entry["rows"].items():
            print(f"  {name:28} {count:>8} filas")
    print("Catálogo / catalog               filas  versión SAT          publicado   días  origen / source")
    for entry in report["per_catalog"]:
        age = str(entry["age_days"]) if entry["age_days"] is not None else "—"
        print(f"  {entry['catalog']:28} {entry['rows']:>8}  {(entry['version'] or '—')[:20]:20} "
              f"{entry['published'] or 'sin fecha':10} {age:>5}  {entry['source']}")
    print("Listas del SAT (reglas que las necesitan):")
    for entry in report["sat_data"]:
        state = f"{entry['path']} ({entry['rows']} filas)" if entry["configured"] else "no configurada"
        print(f"  {entry['key']:32} {state}; {', '.join(entry['codes'])}")
    return 0


def cmd_catalogs_import(args: argparse.Namespace) -> int:
    from gateway.kinds.satcatalogs import shared
    from gateway.kinds.satcatalogs.importer import import_files
    from gateway.kinds.satcatalogs.workbook import CatalogFileError

    gw = _gateway(args, actor="catalogs")
    try:
        directory = gw.settings.catalogs_dir
        assert directory is not None
        shared.sync(gw.store, directory)  # compare with the set in force for every node, not a stale local copy
        try:
            outcome = import_files(list(args.files), directory, force=args.force,
                                   publish=shared.publisher(gw.store, gw.settings.node))
        except CatalogFileError as exc:  # a file SAT changed, a damaged or unrelated one, an older catalog: exit 2
            print(f"catalogs import: {exc}", file=sys.stderr)
            return 2
    finally:
        gw.close()
    imported = [{"catalog": c.name, "file": c.file, "version": c.version, "published": c.published.isoformat(),
                 "rows": len(c.entries)} for c in outcome.catalogs]
    imported += [{"catalog": f"anexo22/{a.name}", "appendix": a.appendix, "file": a.file,
                  "version": a.version or f"desde {a.valid_from.isoformat()}",
                  "valid_from": a.valid_from.isoformat(), "published": a.published.isoformat(), "rows": len(a.values),
                  "complete": a.complete} for a in outcome.appendices]
    report: dict[str, Any] = {"path": str(outcome.path), "ignored_sheets": outcome.ignored, "catalogs": imported}
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
        return 0
    print(f"Catálogos importados / imported into {outcome.path}:")
    for entry in imported:
        print(f"  {entry['catalog']:28} {entry['rows']:>8} filas  {entry['version'] or '—'}  "
              f"publicado {entry['published']}  ({entry['file']})")
    if outcome.ignored:
        print(f"Hojas no usadas por el gateway / sheets not used: {len(outcome.ignored)}")
    return 0


def cmd_init(args: argparse.Namespace) -> int:
    from gateway import starter

    try:
        answers, warnings = starter.gather(args.rfc, args.program, args.inbox, args.outbox, starter.terminal_ask())
        config = starter.create(args.dir.resolve(), answers)
    except starter.StarterError as exc:
        print(f"immex-gateway init: {exc}", file=sys.stderr)
        return 2
    for line in warnings:
        print(line, file=sys.stderr)
    print("\n".join(starter.next_steps(config, starter.console_command())))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from gateway.demo.workspace import run_demo

    logs.configure("warning", "console")
    return run_demo(args.dir)


__all__ = ["main", "Severity"]
