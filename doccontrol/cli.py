"""The command line: thin commands that read options, call one service, and print.

Exit status: 0 success, 1 a problem in the documents or the repository, 2 a usage error.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
import signal
import sys
import tempfile
from pathlib import Path
from typing import NoReturn

import click

from . import clock, collector, fileio
from .errors import DoccontrolError
from .progress import counted
from .register import format_register, pending_rows, register_rows
from .workspace import Workspace

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class Failure(click.ClickException):
    """A user-facing failure: exit status 1, message on stderr, no traceback."""

    exit_code = 1

    def show(self, file=None):
        click.echo(f"error: {self.message}", err=True)


def _workspace(ctx: click.Context, no_cache: bool = False) -> Workspace:
    return Workspace(ctx.obj["repo"], use_cache=not (no_cache or ctx.obj.get("no_cache")))


def _parse_date(ctx, param, value):
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date; write YYYY-MM-DD") from None


def _parse_days(ctx, param, value: str) -> int:
    match = re.fullmatch(r"([0-9]+)\s*d?", value.strip())
    if not match:
        raise click.BadParameter(f"{value!r} is not a number of days; write e.g. 30d")
    return int(match.group(1))


class Group(click.Group):
    def invoke(self, ctx):
        try:
            with collector.for_a_command():
                return super().invoke(ctx)
        except DoccontrolError as error:
            raise Failure(str(error)) from None
        except (KeyboardInterrupt, Exception) as error:
            if not _raised_by_interrupt(error):
                raise
            click.echo("interrupted; nothing was left half-written", err=True)
            ctx.exit(130)


def _raised_by_interrupt(error: BaseException) -> bool:
    """An interrupt, or an error raised while one unwound (zipfile.close() after a cut-short entry)."""
    seen = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, KeyboardInterrupt):
            return True
        seen.add(id(current))
        current = current.__context__
    return False


@click.group(cls=Group, context_settings=CONTEXT)
@click.option("--repo", type=click.Path(file_okay=False, path_type=Path), default=Path("."), show_default=True,
              help="The document repository (the folder holding doccontrol.yml).")
@click.option("--no-cache", is_flag=True, help="Use no cache in any command: parse and convert everything again.")
@click.version_option(package_name="doccontrol")
@click.pass_context
def cli(ctx, repo, no_cache):
    """Document control as code: numbering, approvals, revisions, a controlled site and Word packs."""
    ctx.ensure_object(dict)
    ctx.obj["repo"] = repo
    ctx.obj["no_cache"] = no_cache


@cli.command(context_settings=CONTEXT)
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="Output format; json is stable for CI (see README).")
@click.option("--no-cache", is_flag=True, help="Parse every file again, ignoring the parse cache (a cold run).")
@click.pass_context
def check(ctx, strict, fmt, no_cache):
    """Check every controlled document and report every problem found.

    Exits 0 when there is no error (warnings are printed), 1 when there is one.
    """
    from .site_options import site_option_findings

    ws = _workspace(ctx, no_cache)
    report = ws.check(strict=strict)
    report.findings.extend(site_option_findings(ws))
    if fmt == "json":
        click.echo(json.dumps({
            "version": 1,
            "documents": len(report.documents),
            "errors": len(report.errors),
            "warnings": len(report.warnings),
            "findings": [f.as_dict() for f in report.findings],
        }, ensure_ascii=False, indent=2))
    else:
        for finding in report.findings:
            click.echo(str(finding))
        click.echo(f"checked {len(report.documents)} documents: "
                   f"{len(report.errors)} errors, {len(report.warnings)} warnings")
    if not report.ok:
        ctx.exit(1)


@cli.command("init", context_settings=CONTEXT)
@click.argument("folder", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option("--locale", type=click.Choice(["zh", "en"]), default="zh", show_default=True,
              help="The language of the site, the Word files, the templates and the labels.")
@click.option("--company", help="The company's name (default: the folder's name).")
@click.option("--catalogue", type=click.Choice(["gb27922", "iso9001", "iso13485", "none"]), default="iso9001",
              show_default=True, help="The clause catalogue to start from (clauses.yml).")
@click.option("--name", help="Your name in the roster (default: git's user.name).")
@click.option("--key", metavar="PATH", help="Your SSH key (default: git config user.signingkey).")
@click.option("--position", help="Your position (default: quality manager).")
@click.option("--department", help="Your department (default: quality).")
@click.pass_context
def init_command(ctx, folder, locale, company, catalogue, name, key, position, department):
    """Start a document repository: configuration, clause catalogue, you in the roster, the trust anchor signed."""
    from .init import init, next_steps

    started = init(folder or ctx.obj["repo"], locale=locale, company=company, catalogue=catalogue, name=name,
                   key=key, position=position, department=department)
    for line in next_steps(started, locale):
        click.echo(line)


@cli.command(context_settings=CONTEXT)
@click.argument("doc_type", metavar="TYPE")
@click.argument("title")
@click.option("--department", help="The owning department (编制部门). Default: the author's department.")
@click.option("--author", help="Who prepares it (编制); a name from the roster. Default: git's user.name.")
@click.pass_context
def new(ctx, doc_type, title, department, author):
    """Create a document of TYPE from its template with the next free number; print its path."""
    ws = _workspace(ctx)
    path = ws.new_document(doc_type, title, department, author or ws.git_user())
    click.echo(path.relative_to(ws.root).as_posix())


@cli.command(context_settings=CONTEXT)
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json", "md"]), default="table", show_default=True)
@click.option("--as-of", "as_of", callback=_parse_date, metavar="DATE",
              help="List the revision of each document in force on DATE, read from git.")
@click.pass_context
def register(ctx, fmt, as_of):
    """The controlled document list (受控文件清单): what is in force today (or on --as-of DATE), from the proven
    record; without --as-of, then what is pending (drafts, in review, released for a later date)."""
    ws = _workspace(ctx)
    publication = ws.in_force(as_of or clock.today())
    _notice(publication.notice)
    _held_back(publication)
    pending = None if as_of else pending_rows(ws.config, ws.documents(), publication.documents, clock.today())
    click.echo(format_register(register_rows(ws.config, publication.documents), fmt, ws.config.messages, pending),
               nl=False)


@cli.command(context_settings=CONTEXT)
@click.argument("number")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.pass_context
def show(ctx, number, fmt):
    """Show one document's metadata."""
    ws = _workspace(ctx)
    doc = ws.find(number)
    data = {
        "number": doc.number, "title": doc.title, "type": doc.type, "department": doc.department,
        "revision": doc.revision, "status": doc.status, "path": doc.path,
        "prepared": f"{doc.prepared.name} {doc.prepared.date}",
        "reviewed": _sig(doc.reviewer), "approved": _sig(doc.approver),
        "effective": str(doc.effective or ""), "next_review": str(doc.next_review or ""),
        "references": list(doc.references), "clauses": list(doc.clauses),
    }
    if doc.retention:
        data["retention"] = doc.retention
    if fmt == "json":
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    text = ws.config.messages
    fields, short = text.fields, text.cli
    labels = {"number": short.number, "title": short.title, "type": fields.type_short, "department": short.department,
              "revision": short.revision, "status": fields.status, "path": fields.path, "prepared": text.roles.prepare,
              "reviewed": text.roles.review, "approved": text.roles.approve, "effective": fields.effective,
              "next_review": fields.next_review_short, "references": fields.references, "clauses": fields.clauses,
              "retention": fields.retention}
    for key, value in data.items():
        if key == "status":
            value = f"{text.status_label(value)} ({value})"
        if key == "type":
            value = f"{ws.config.type_label(value)} ({value})"
        if isinstance(value, list):
            value = ", ".join(value)
        click.echo(f"{labels[key]}: {value}")


def _indented_json(value, level: int = 0) -> str:
    """Exactly json.dumps(value, ensure_ascii=False, indent=2), several times faster on big outputs
    (json's indenting encoder is pure Python; this one leaves each string to the C encoder)."""
    if isinstance(value, str):
        return _json_string(value)
    if isinstance(value, dict) and all(isinstance(key, str) for key in value):
        if not value:
            return "{}"
        inner = "\n" + "  " * (level + 1)
        return ("{" + inner + ("," + inner).join(
            _json_string(key) + ": " + (_json_string(item) if type(item) is str else _indented_json(item, level + 1))
            for key, item in value.items()) + "\n" + "  " * level + "}")
    if isinstance(value, list):
        if not value:
            return "[]"
        inner = "\n" + "  " * (level + 1)
        items = ("," + inner).join(_indented_json(item, level + 1) for item in value)
        return "[" + inner + items + "\n" + "  " * level + "]"
    return json.dumps(value, ensure_ascii=False, indent=2)


_json_string = json.encoder.encode_basestring


def _notice(text: str) -> None:
    if text:
        click.echo(f"notice: {text}", err=True)


def _held_back(publication) -> None:
    """Say which documents the publication left out because their signed record failed."""
    _held_back_findings(publication.held_back if publication else [])


def _held_back_findings(held_back) -> None:
    for finding in held_back:
        click.echo(f"held back: {finding.message} ({finding.path}:{finding.line}; run `doccontrol verify`)", err=True)


def _progress(command: str, stage: str = ""):
    """Progress on stderr when it is a terminal, once the command has run for two seconds; nothing otherwise
    (CI, pipes, tests)."""
    import contextlib

    from .progress import TerminalProgress

    if sys.stderr.isatty():
        return TerminalProgress(sys.stderr, command, stage)
    return contextlib.nullcontext(None)


def _sig(sig) -> str:
    return f"{sig.name} {sig.at.date()}" if sig else ""


# -- change control ----------------------------------------------------------------------------

def signing_options(command):
    """--key and --as for every command that signs a statement."""
    command = click.option("--as", "as_name", metavar="NAME",
                           help="Who you are; must be the owner of the key (required only under the "
                                "`unsigned` policy).")(command)
    return click.option("--key", metavar="PATH", help="Your SSH key (private key file, or its .pub with the key in "
                                                      "ssh-agent). Default: git config user.signingkey.")(command)


def _control(ctx, key: str | None = None, as_name: str | None = None, show_diff: bool = False):
    from .workflow import ChangeControl

    return ChangeControl(_workspace(ctx), key=key, as_name=as_name, show=click.echo if show_diff else None)


DIFF_OPTION = click.option("--diff/--no-diff", "show_diff", default=None,
                           help="Show what changed against the revision in force before signing (default: on a "
                                "terminal).")


def _showing(show_diff: bool | None) -> bool:
    return sys.stdout.isatty() if show_diff is None else show_diff


def _list_option(ctx, param, value):
    if value is None:
        return None
    return [item.strip() for item in value.replace("，", ",").split(",") if item.strip()]


@cli.command(context_settings=CONTEXT)
@click.argument("numbers", nargs=-1, required=True, metavar="NUMBER...")
@click.option("--reason", required=True, help="Why the documents change; goes into the revision record.")
@click.option("--author",
              help="Who prepares the new revision (编制); a name from the roster. Default: git's user.name.")
@click.option("--major", is_flag=True, help="Re-issue as the next version letter (换版), e.g. A/3 → B/0.")
@click.option("--section", help="The changed section, for the revision record (default: 全文, or All in English).")
@click.option("--clauses", callback=_list_option, metavar="ID,…", help="Set the clauses (a metadata-only change).")
@click.option("--references", callback=_list_option, metavar="NUMBER,…", help="Set the references.")
@click.option("--review-months", type=click.IntRange(1, 120), help="Set the periodic review interval.")
@click.option("--submit", "and_submit", is_flag=True,
              help="Submit the new revision at once, signed by its author (the light path for a metadata change).")
@signing_options
@click.pass_context
def revise(ctx, numbers, reason, author, major, section, clauses, references, review_months, and_submit, key,
           as_name):
    """Open the next revision of effective documents as drafts (A/0 → A/1; after A/9, B/0)."""
    control = _control(ctx, key, as_name)
    changes = {name: value for name, value in (("clauses", clauses), ("references", references),
                                                ("review_months", review_months)) if value is not None}
    docs = control.revise(list(numbers), reason, author or control.ws.git_user(), major=major,
                          section=section or control.ws.config.messages.fields.whole_document, changes=changes)
    if and_submit:
        docs = control.submit([doc.number for doc in docs])
    for doc in docs:
        state = "is in review" if and_submit else f"is open as a draft in {doc.path}"
        click.echo(f"{doc.number} {doc.revision} {state}")


def _chosen(control, numbers: tuple[str, ...], everything: bool, action: str, role: str | None = None) -> list[str]:
    if everything and numbers:
        raise click.UsageError("give document numbers or --all, not both")
    if not everything and not numbers:
        raise click.UsageError("give document numbers, or --all for everything waiting for you")
    return control.selected(action, role) if everything else list(numbers)


ALL_OPTION = click.option("--all", "everything", is_flag=True, help="Everything waiting for you (for your key).")


@cli.command(context_settings=CONTEXT)
@click.argument("numbers", nargs=-1, metavar="NUMBER...")
@ALL_OPTION
@DIFF_OPTION
@signing_options
@click.pass_context
def submit(ctx, numbers, everything, show_diff, key, as_name):
    """Submit drafts for review (draft → in review), signed by their preparer (编制); shows what changed."""
    control = _control(ctx, key, as_name, show_diff=_showing(show_diff))
    for doc in control.submit(_chosen(control, numbers, everything, "submit")):
        click.echo(f"{doc.number} {doc.revision} is in review")


@cli.command(context_settings=CONTEXT)
@click.argument("numbers", nargs=-1, metavar="NUMBER...")
@click.option("--role", required=True, metavar="ROLE",
              help="review, countersign or approve (also their labels: 审核, 会签, 批准; Review, Countersign, "
                   "Approve).")
@click.option("--comment", default="", help="A comment recorded with the signature.")
@ALL_OPTION
@DIFF_OPTION
@signing_options
@click.pass_context
def approve(ctx, numbers, role, comment, everything, show_diff, key, as_name):
    """Sign documents in review with your own key; shows what changed, and the signature binds the exact
    content and the revision it was compared with."""
    from .workflow import role_id

    control = _control(ctx, key, as_name, show_diff=_showing(show_diff))
    text = control.ws.config.messages
    chosen = role_id(role)
    for doc in control.approve(_chosen(control, numbers, everything, "approve", role), role, comment):
        signer = next((sig for sig in reversed(doc.approvals) if sig.role == chosen), None)
        by = f"{signer.name} (key {signer.key}…)" if signer and signer.key else (signer.name if signer else "")
        click.echo(f"{doc.number} {doc.revision}: {text.role_label(chosen)} signed by {by} "
                   f"({text.status_label(doc.status)})")


@cli.command("return", context_settings=CONTEXT)
@click.argument("numbers", nargs=-1, required=True, metavar="NUMBER...")
@click.option("--reason", required=True, help="Why it goes back to its author (recorded and signed).")
@signing_options
@click.pass_context
def return_(ctx, numbers, reason, key, as_name):
    """Return documents in review to their author as drafts; signatures given so far lapse."""
    for doc in _control(ctx, key, as_name).return_to_draft(list(numbers), reason):
        click.echo(f"{doc.number} {doc.revision} is a draft again")


@cli.command(context_settings=CONTEXT)
@click.argument("numbers", nargs=-1, metavar="NUMBER...")
@click.option("--effective", callback=_parse_date, metavar="DATE", help="Effective date (default: today).")
@ALL_OPTION
@signing_options
@click.pass_context
def release(ctx, numbers, effective, everything, key, as_name):
    """Release approved revisions (发布): signed by a person with the release right; commits and tags."""
    control = _control(ctx, key, as_name)
    for doc in control.release(_chosen(control, numbers, everything, "release"), effective):
        click.echo(f"{doc.number} {doc.revision} effective {doc.effective} (tag {doc.number}/"
                   f"{doc.revision.replace('/', '')})")


@cli.command(context_settings=CONTEXT)
@click.argument("number")
@click.option("--reason", required=True, help="Why the document is withdrawn (作废原因).")
@click.option("--superseded-by", "superseded_by", help="The document that replaces it.")
@click.option("--date", "date", callback=_parse_date, metavar="DATE", help="Withdrawn from DATE (default: today).")
@signing_options
@click.pass_context
def obsolete(ctx, number, reason, superseded_by, date, key, as_name):
    """Withdraw a document (作废), signed by a person with 批准 authority; its number is never reused."""
    control = _control(ctx, key, as_name)
    doc = control.obsolete(number, reason, superseded_by, date)
    click.echo(f"{doc.number} is withdrawn ({control.ws.config.messages.status.obsolete})")


@cli.command("issue", context_settings=CONTEXT)
@click.argument("numbers", nargs=-1, required=True, metavar="NUMBER...")
@click.option("--holder", required=True, help="Who receives the copies (a holder from doccontrol.yml `holders:`).")
@click.option("--copies", "count", type=click.IntRange(1, 50), default=1, show_default=True,
              help="How many copies of each document.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("dist/copies"),
              show_default=True)
@click.option("--force", is_flag=True, help="Replace an existing file that doccontrol did not write.")
@signing_options
@click.pass_context
def issue_command(ctx, numbers, holder, count, out, force, key, as_name):
    """发放: numbered controlled copies (分发号) of the revisions in force, recorded in the signed register."""
    from .copies import copy_id, write_copies

    control = _control(ctx, key, as_name)
    statements = control.issue(list(numbers), holder, count)
    for statement in statements:
        click.echo(f"{copy_id(statement.number, statement.serial)}  {statement.number} {statement.revision} "
                   f"{statement.title} → {holder}")
    for path in write_copies(control.ws, statements, out, force=force):
        click.echo(str(path))


@cli.command(context_settings=CONTEXT)
@click.option("--holder", help="Only the copies of this holder.")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json", "md"]), default="table", show_default=True)
@click.pass_context
def copies(ctx, holder, fmt):
    """The distribution register (文件发放回收登记): every controlled copy issued, and its return."""
    from .copies import register_table

    ws = _workspace(ctx)
    rows = [row for row in ws.copy_rows() if not holder or row.holder == holder]
    click.echo(register_table(rows, fmt, ws.config.messages), nl=False)


@cli.command(context_settings=CONTEXT)
@click.option("--done", "done", multiple=True, metavar="NUMBER#NN",
              help="Record the return of these copies (repeatable), e.g. --done QP-SH-011#03.")
@click.option("--outcome", type=click.Choice(["destroyed", "retained", "lost"]), default="destroyed",
              show_default=True, help="销毁, 作废留存 (kept, stamped 作废), or 遗失 (lost: the copy number is void).")
@click.option("--note", default="", help="A note recorded with the return.")
@signing_options
@click.pass_context
def recall(ctx, done, outcome, note, key, as_name):
    """回收: list the controlled copies to recall, by holder; with --done, record their return (signed)."""
    from .copies import parse_copy_id, to_recall

    if done:
        try:
            ids = [parse_copy_id(text) for text in done]
        except ValueError as error:
            raise click.BadParameter(str(error), param_hint="--done") from None
        for statement in _control(ctx, key, as_name).recall(ids, outcome, note):
            click.echo(f"{statement.number}#{statement.serial:02d} returned ({outcome})")
        return
    rows = to_recall(_workspace(ctx).copy_rows())
    holders: dict[str, list] = {}
    for row in rows:
        holders.setdefault(row.holder, []).append(row)
    for holder, items in sorted(holders.items()):
        click.echo(holder)
        for row in items:
            click.echo(f"  {row.copy_id}  {row.number} {row.revision} {row.title}  recall by {row.recall_by}")
    click.echo(f"{len(rows)} controlled copies to recall")


@cli.group(context_settings=CONTEXT)
def config():
    """The controlled configuration: roster, keys, rights, numbering, clauses."""


@config.command("approve", context_settings=CONTEXT)
@signing_options
@click.pass_context
def config_approve(ctx, key, as_name):
    """Sign the configuration files as the next approved version (the first is the trust anchor)."""
    roster = _control(ctx, key, as_name).approve_configuration()
    click.echo(f"configuration version {roster.version} approved ({roster.fingerprint})")


@config.command("show", context_settings=CONTEXT)
@click.pass_context
def config_show(ctx):
    """The approved configuration versions, the trust anchor, and every person's keys."""
    from .audit import demo_key_notes, roster_report

    ws = _workspace(ctx)
    for line in roster_report(ws.evaluate()) + demo_key_notes(ws.root, ws.evaluate()):
        click.echo(line)


@cli.command(context_settings=CONTEXT)
@click.argument("number", required=False)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--no-cache", is_flag=True, help="Parse every document again, ignoring the parse cache.")
@click.pass_context
def history(ctx, number, fmt, no_cache):
    """The revision record of each document with what the signed record says of every revision."""
    from .audit import history as read_history

    ws = _workspace(ctx, no_cache)
    records = read_history(ws, number)
    if fmt == "json":
        click.echo(_indented_json([r.__dict__ for r in records]))
        return
    prepared = ws.config.messages.roles.prepare
    for record in records:
        click.echo(f"{record.number} {record.title}")
        for row in record.rows:
            if row["effective"]:
                state = (f"released {row['released_at'][:10]} by {row['released_by']}, effective {row['effective']}; "
                         + ", ".join(row["signatures"]))
            else:
                state = row["record"]
            click.echo(f"  {row['revision']}  {row['date']}  {row['section']}: {row['summary']}"
                       f"  ({prepared} {row['by']}; {state})")


@cli.command(context_settings=CONTEXT)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--restore-tags", is_flag=True, help="First recreate release tags missing from this clone.")
@click.pass_context
def verify(ctx, fmt, restore_tags):
    """Prove the record: every signature, against the roster of its time, in order, bound to the content."""
    from .audit import restore_tags as run_restore
    from .audit import verify as run_verify

    ws = _workspace(ctx)
    if restore_tags:
        created = run_restore(ws)
        click.echo(f"restored {len(created)} release tags", err=fmt == "json")
    with _progress("verify", "proving the signed record"):
        report = run_verify(ws)
    errors = report.errors
    if fmt == "json":
        click.echo(json.dumps({"version": 1, "signatures": report.signatures, "history": report.history,
                               "missing_tags": report.missing_tags, "notes": report.notes,
                               "findings": [f.as_dict() for f in report.findings]}, ensure_ascii=False, indent=2))
    else:
        for line in report.notes:
            click.echo(line)
        for finding in report.findings:
            click.echo(str(finding))
        if report.missing_tags:
            click.echo(f"note: {len(report.missing_tags)} release tags are not in this clone (tags are a convenience; "
                       "the record does not need them): doccontrol verify --restore-tags")
        versions = _versions_line(report)
        if errors:
            click.echo(f"verify found {len(errors)} problems; {report.signatures} signatures verified {versions}")
        else:
            proven = "in order, from the history" if report.history else "without history (order not proven)"
            click.echo(f"verified: the record is intact; {report.signatures} signatures verified cryptographically "
                       f"{versions}, {proven}")
    if errors:
        ctx.exit(1)


@cli.command(context_settings=CONTEXT)
@click.pass_context
def guard(ctx):
    """Server-side pre-receive hook: refuse pushes that the record would not accept (reads OLD NEW REF lines)."""
    import os

    from .guard import guard as run_guard
    from .guard import parse_updates
    from .repo import Repo, RepoError
    from .signing import Verifier

    where = os.environ.get("GIT_DIR") or str(ctx.obj["repo"])
    try:
        repo = Repo(Path(where), bare=True)
    except RepoError as error:
        raise Failure(str(error)) from None
    with repo:
        refusals = run_guard(repo, parse_updates(click.get_text_stream("stdin").read()), Verifier())
    for refusal in refusals:
        click.echo(f"doccontrol guard: {refusal}", err=True)
    if refusals:
        click.echo("doccontrol guard: push refused; see README, Trust model", err=True)
        ctx.exit(1)


def _versions_line(report) -> str:
    if not report.versions:
        return "(no approved configuration)"
    versions = "version 1" if report.versions == 1 else f"versions 1–{report.versions}"
    if report.unsigned:
        return f"against configuration {versions} (policy unsigned: names only, no keys)"
    return f"against configuration {versions} (anchor {report.anchor[:19]}…)"


@cli.command(context_settings=CONTEXT)
@click.option("--within", default="30d", show_default=True, callback=_parse_days, help="Look ahead this many days.")
@click.pass_context
def due(ctx, within):
    """Documents whose periodic review is due, and controlled copies due for recall."""
    import datetime as dt

    from .copies import to_recall
    from .workflow import due as find_due

    ws = _workspace(ctx)
    docs = find_due(ws, within)
    for doc in docs:
        click.echo(f"{doc.next_review}  {doc.number}  {doc.title}  {doc.revision}")
    click.echo(f"{len(docs)} documents due for review within {within} days")
    limit = clock.today() + dt.timedelta(days=within)
    copies = [row for row in to_recall(ws.copy_rows()) if row.recall_by and row.recall_by <= limit]
    for row in copies:
        click.echo(f"{row.recall_by}  {row.copy_id}  recall from {row.holder}: {row.number} {row.revision} {row.title}")
    if copies:
        click.echo(f"{len(copies)} controlled copies to recall within {within} days")


# -- outputs -----------------------------------------------------------------------------------

def allow_no_history_option(command):
    return click.option("--allow-no-history", is_flag=True,
                        help="In a shallow clone or an export without .git, publish only what the files alone "
                             "prove released (the output says so).")(command)


@cli.command(context_settings=CONTEXT)
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Output folder (default: site/, or preview/ with --preview).")
@click.option("--preview", is_flag=True, help="Include drafts, each marked 草稿/未批准, into a separate folder.")
@click.option("--as-of", "as_of", callback=_parse_date, metavar="DATE", help="Publish what is in force on DATE.")
@click.option("--no-cache", is_flag=True, help="Parse every published document again, ignoring the parse cache.")
@click.option("--no-redlines", is_flag=True, help="Leave out the 修订对比 pages (what each current revision changed).")
@allow_no_history_option
@click.pass_context
def build(ctx, out, preview, as_of, no_cache, no_redlines, allow_no_history):
    """Build the controlled website from the current released revisions."""
    from .render.site import build_site

    ws = _workspace(ctx, no_cache)
    ws.allow_no_history = allow_no_history
    out = out or ws.root / ("preview" if preview else "site")
    with _progress("build") as progress:
        result = build_site(ws, out, preview=preview, as_of=as_of, redlines=not no_redlines, progress=progress)
    _notice(result.notice)
    _held_back_findings(result.held_back)
    click.echo(f"built {result.pages} documents into {result.out}; {result.summary()}")


@cli.command(context_settings=CONTEXT)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.pass_context
def serve(ctx, port, host):
    """Live preview for authors (drafts included, marked 草稿)."""
    from .render.site import serve as run_serve

    run_serve(_workspace(ctx), host, port)


@cli.command(context_settings=CONTEXT)
@click.argument("number")
@click.option("--revision", help="A released revision (e.g. A/1); default: the current one.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("dist"), show_default=True)
@click.option("--redline", is_flag=True, help="Export the changes from the previous revision as Word tracked changes.")
@click.option("--from", "from_rev", metavar="REV", help="With --redline: the revision to compare with "
              "(default: the one before).")
@allow_no_history_option
@click.option("--force", is_flag=True, help="Replace an existing file that doccontrol did not write.")
@click.pass_context
def export(ctx, number, revision, out, redline, from_rev, allow_no_history, force):
    """Export one document as a controlled Word (.docx) file, or as a redline (--redline)."""
    if from_rev and not redline:
        raise click.UsageError("--from is for --redline")
    if redline:
        from .compare import redline_pair
        from .render.redline import export_redline

        ws = _workspace(ctx)
        pair = redline_pair(ws, number, revision, from_rev)
        _notice(pair.notice)
        click.echo(str(export_redline(ws, pair.old, pair.new, out, force=force)))
        return
    from .render.docx import export_document

    exported = export_document(_workspace(ctx), number, revision, out, allow_no_history=allow_no_history,
                               force=force)
    _notice(exported.notice)
    click.echo(str(exported.path))


@cli.command(context_settings=CONTEXT)
@click.argument("number")
@click.option("--from", "from_rev", metavar="REV", help="The older revision (default: the one in force).")
@click.option("--to", "to_rev", metavar="REV", help="The newer revision (default: the working revision).")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "html"]), default="text", show_default=True)
@click.pass_context
def diff(ctx, number, from_rev, to_rev, fmt):
    """What changed between two revisions: body by section, and controlled metadata."""
    from .compare import compare
    from .diff import diff_documents, format_diff

    ws = _workspace(ctx)
    pair = compare(ws, number, from_rev, to_rev)
    _notice(pair.notice)
    labels = ws.config.messages
    click.echo(format_diff(diff_documents(pair.old, pair.new, labels), fmt, labels), nl=False)


@cli.command(context_settings=CONTEXT)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=Path("dist/audit-pack.zip"),
              show_default=True)
@click.option("--as-of", "as_of", callback=_parse_date, metavar="DATE", help="Pack what is in force on DATE.")
@click.option("--no-cache", is_flag=True, help="Ignore the conversion cache (a cold run).")
@click.option("--redlines-since", "redlines_since", callback=_parse_date, metavar="DATE",
              help="Also pack a Word redline (修订对比) of each revision that came into force since DATE.")
@allow_no_history_option
@click.option("--force", is_flag=True, help="Replace an existing file that doccontrol did not write.")
@click.pass_context
def pack(ctx, out, as_of, no_cache, redlines_since, allow_no_history, force):
    """Build the audit pack: one .docx per document in force, the register, the clause matrix, a manifest."""
    from .pack import build_pack

    no_cache = no_cache or ctx.obj.get("no_cache")
    ws = _workspace(ctx, no_cache)
    ws.allow_no_history = allow_no_history
    with _progress("pack") as progress:
        result = build_pack(ws, out, as_of=as_of, use_cache=not no_cache,
                            progress=counted(progress, "converting documents"),
                            force=force, redlines_since=redlines_since)
    _notice(result.notice)
    _held_back(ws.publication)
    click.echo(f"packed {result.documents} documents into {result.path}")


@cli.command(context_settings=CONTEXT)
@click.option("--site", "site_out", type=click.Path(file_okay=False, path_type=Path), default=Path("site"),
              show_default=True)
@click.option("--pack", "pack_out", type=click.Path(dir_okay=False, path_type=Path),
              default=Path("dist/audit-pack.zip"), show_default=True)
@click.option("--strict", is_flag=True, help="Treat check warnings as errors.")
@click.pass_context
def publish(ctx, site_out, pack_out, strict):
    """The main job: check the documents, verify the record, build the site and the audit pack, say where they are."""
    from .audit import verify as run_verify
    from .pack import build_pack
    from .render.site import build_site

    ws = _workspace(ctx)
    report = ws.check(strict=strict)
    for finding in report.findings:
        click.echo(str(finding))
    click.echo(f"check: {len(report.documents)} documents, {len(report.errors)} errors, "
               f"{len(report.warnings)} warnings")
    if not report.ok:
        raise Failure("check found errors; nothing was built")
    with _progress("publish", "verifying the signed record"):
        verified = run_verify(ws)
    for finding in verified.errors:
        click.echo(str(finding))
    if verified.errors:
        raise Failure(f"verify found {len(verified.errors)} problems in the signed record; nothing was built")
    click.echo(f"verify: the record is intact ({verified.signatures} signatures verified"
               + ("" if verified.history else ", without history") + ")")
    site_out = site_out if site_out.is_absolute() else ws.root / site_out
    pack_out = pack_out if pack_out.is_absolute() else ws.root / pack_out
    with _progress("publish") as progress:
        site = build_site(ws, site_out, progress=progress)
    _notice(site.notice)
    click.echo(f"site: {site.pages} documents in {site.out} (open {site.out / 'index.html'})")
    with _progress("publish") as progress:
        packed = build_pack(ws, pack_out, use_cache=ws.use_cache, progress=counted(progress, "converting documents"))
    click.echo(f"audit pack: {packed.documents} documents in {packed.path}")
    click.echo(f"site: {site.summary()}; pack: {packed.converted:,} of {packed.documents:,} documents converted")


@cli.command("verify-pack", context_settings=CONTEXT)
@click.argument("pack_file", metavar="FILE.zip", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_context
def verify_pack(ctx, pack_file):
    """Verify an audit pack on its own: signatures, signers' rights, content fingerprints, file hashes."""
    from .audit import roster_report
    from .packcheck import verify_pack as run

    report = run(pack_file)
    if report.evaluation is not None:
        for line in roster_report(report.evaluation):
            click.echo(line)
    for finding in report.findings:
        click.echo(str(finding))
    if report.findings:
        click.echo(f"the pack does NOT verify: {len(report.findings)} problems")
        ctx.exit(1)
    click.echo(f"verified: {report.documents} documents, {report.signatures} signatures verified cryptographically; "
               f"trust anchor {report.anchor}; the signed text is the sources in {report.record}/sources/ (the Word "
               "files and lists match only the manifest, which is not signed)")


@cli.command("import", context_settings=CONTEXT)
@click.argument("paths", nargs=-1, required=True, metavar="PATH...",
                type=click.Path(exists=True, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Print the plan and write nothing.")
@click.option("--type", "doc_type", metavar="TYPE",
              help="Import every document as this type, one of doccontrol.yml `types:` (default: guessed from "
                   "titles and folders).")
@click.option("--department", help="The owning department of every document (default: the source's, else the "
                                   "author's).")
@click.option("--author", help="Who prepares (编制) and later submits the documents; a name from the roster. "
                               "Default: git's user.name.")
@click.option("--as-drafts/--keep-status", "as_drafts", default=True, show_default=True,
              help="Import every document as a draft, or keep what a source says is approved or in force as "
                   "effective (released before the signed record began; adopt it with submit, approve, release).")
@click.pass_context
def import_(ctx, paths, dry_run, doc_type, department, author, as_drafts):
    """Bring existing documents under control: folders of Markdown, MkDocs sites and Word .docx files.

    Prints the plan first (source → number, type, title; what was converted; what needs attention),
    then writes the documents and their pictures and commits them in one commit.
    """
    from .importer import ImportOptions, build_plan, describe_plan, next_steps, write_plan

    ws = _workspace(ctx, no_cache=True)  # a dry run writes nothing, not even the parse cache
    options = ImportOptions(author=author or ws.git_user(), doc_type=doc_type, department=department,
                            as_drafts=as_drafts)
    plan = build_plan(ws, list(paths), options)
    for line in describe_plan(plan):
        click.echo(line)
    if dry_run:
        click.echo("dry run: nothing was written")
        return
    sha = write_plan(ws, plan)
    click.echo(f"imported {len(plan.documents)} documents in commit {sha[:12]}")
    for line in next_steps(plan):
        click.echo(line)


def _terminate(signum, frame):
    """SIGTERM unwinds like Ctrl-C, so every `finally` removes its temporary files."""
    raise KeyboardInterrupt


def settle_temporary_folder() -> None:
    """Find the temporary folder now, with interrupts held.

    Python finds it by writing a probe file there and removing it; an interrupt between the
    two (on the first use, often deep in a build) would leave the probe behind."""
    with fileio.interrupts_held():
        tempfile.gettempdir()


def main():
    signal.signal(signal.SIGTERM, _terminate)
    settle_temporary_folder()
    try:
        cli(prog_name="doccontrol")
    except SystemExit as done:
        leave(done.code)


def leave(code) -> NoReturn:
    """End the process with sys.exit's status for code, once what was printed is out, without tearing down
    the heap first.

    The command is over: its files are written and closed, its temporaries removed, its child processes
    reaped (every one is stopped in a `finally`; only the remover of a replaced site outlives it, on purpose:
    fileio.remove_in_background). What is left is freeing object by object everything a large build or proof
    made, which can take longer than some whole commands; the operating system takes the memory back at once."""
    status = 0 if code is None else code if isinstance(code, int) else 1
    if not isinstance(code, (int, type(None))):
        print(code, file=sys.stderr)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (`doccontrol … | head`): nothing more can be said
            status = status or 1
    logging.shutdown()
    os._exit(status)


if __name__ == "__main__":
    sys.exit(main())
