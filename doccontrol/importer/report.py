"""The plan and the next steps in words, for the command to print."""

from __future__ import annotations

from .plan import Plan, Planned


def describe_plan(plan: Plan) -> list[str]:
    """Source → number, type, title and file; what was converted; what needs attention; what was left out."""
    how = "as drafts" if plan.options.as_drafts else "keeping what the sources say about their status"
    count = len(plan.documents)
    lines = [f"import plan: {count} document{'s' if count != 1 else ''}, {how}, prepared by {plan.options.author}"]
    for item in plan.documents:
        lines += _document(item)
    if plan.skipped:
        lines.append("not imported:")
        lines += [f"  {line}" for line in plan.skipped]
    attention = sum(len(item.attention) for item in plan.documents)
    pictures = [image for item in plan.documents for image in item.images]
    lines.append(f"{_count(plan.documents, 'document', 'documents')}, {_count(pictures, 'picture', 'pictures')}; "
                 f"{attention} thing{'s' if attention != 1 else ''} to look at")
    return lines


def _document(item: Planned) -> list[str]:
    legacy = item.legacy
    status = legacy.status + (f" (effective {legacy.effective})" if legacy.effective else "")
    lines = [f"  {item.source.shown} → {item.number} {item.doc_type} “{item.title}”",
             f"      file: {item.path}; {legacy.revision} {status}; type {item.type_reason}"]
    converted = item.converted
    if converted:
        lines.append("      converted: " + "; ".join(f"{what}" + (f" ({count}×)" if count > 1 else "")
                                                  for what, count in converted.items()))
    for note in item.attention:
        where = f"{item.source.shown}:{note.line}" if note.line and item.source.kind != "docx" else item.source.shown
        lines.append(f"      attention: {where}: {note.what}")
    return lines


def next_steps(plan: Plan) -> list[str]:
    """What the quality manager does next with what was imported."""
    by_status: dict[str, list[str]] = {}
    for item in plan.documents:
        by_status.setdefault(item.legacy.status, []).append(item.number)
    author = plan.options.author
    lines = []
    effective = by_status.get("effective", [])
    if effective:
        numbers = " ".join(effective)
        lines += [f"next: {_count(effective, 'document is', 'documents are')} marked effective: released before the "
                  "signed record began. `check` reports them until they are adopted into the record, which signs "
                  "each as it stands:",
                  f"  doccontrol submit {numbers}    ({author}, the preparer, with their own key)",
                  f"  doccontrol approve {numbers} --role 审核",
                  f"  doccontrol approve {numbers} --role 批准",
                  f"  doccontrol release {numbers}"]
    obsolete = by_status.get("obsolete", [])
    if obsolete:
        lines.append(f"next: {_count(obsolete, 'document is', 'documents are')} marked withdrawn in their source: "
                     "record each withdrawal with `doccontrol obsolete NUMBER --reason …` (" + " ".join(obsolete) + ")")
    drafts = by_status.get("draft", [])
    if drafts:
        lines.append(f"next: {_count(drafts, 'draft', 'drafts')}: look at what the plan lists, edit them, then "
                     f"`doccontrol submit {' '.join(drafts)}` ({author}) for review")
    return lines


def _count(items: list, one: str, many: str) -> str:
    return f"{len(items)} {one if len(items) == 1 else many}"
