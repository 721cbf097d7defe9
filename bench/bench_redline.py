"""The revision pair the redline benchmark diffs: a procedure of at least 15 kB and a revision of it
with edits all over (numbers changed, a paragraph removed, one added, a list item added, a
section moved, a table cell changed)."""

from __future__ import annotations

import dataclasses
import re

MIN_BYTES = 15 * 1024


def revision_pair(documents):
    """(old, new) built from the largest procedure, its body repeated until it reaches MIN_BYTES."""
    procedure = max((d for d in documents if d.type == "procedure"), key=lambda d: len(d.full_text.encode()))
    body = procedure.full_text
    copies = [body]
    while len("\n\n".join(copies).encode()) < MIN_BYTES:
        copies.append(re.sub(r"(?m)^(#+) ", lambda m: f"{m.group(1)} 续{len(copies)} ", body))
    old_body = "\n\n".join(copies)
    return (dataclasses.replace(procedure, body=old_body, parts=()),
            dataclasses.replace(procedure, body=revised(old_body), parts=(), revision="Z/9"))


def revised(text: str) -> str:
    """Edits spread over the text."""
    paragraphs = text.split("\n\n")
    for index in range(0, len(paragraphs), 7):
        paragraphs[index] = re.sub(r"[0-9]+", lambda m: str(int(m.group(0)) + 1), paragraphs[index], count=1)
    for index in range(3, len(paragraphs), 11):
        paragraphs[index] = paragraphs[index].replace("。", "，并在系统中登记。", 1)
    removed = paragraphs.pop(len(paragraphs) // 3)
    paragraphs.insert(len(paragraphs) // 2, "新增段落：本程序的执行情况每季度检查一次，检查结果报管理者代表。")
    headings = [k for k, p in enumerate(paragraphs) if p.startswith("## ")]
    if len(headings) > 3:
        start, end = headings[1], headings[2]
        section = paragraphs[start:end]
        del paragraphs[start:end]
        paragraphs[headings[3] - len(section):headings[3] - len(section)] = section
    rows = [k for k, p in enumerate(paragraphs) if p.startswith("|")]
    if rows:
        lines = paragraphs[rows[0]].split("\n")
        lines[-1] = lines[-1].replace("|", "| 已修改", 1) if len(lines) > 2 else lines[-1]
        paragraphs[rows[0]] = "\n".join(lines)
    del removed
    return "\n\n".join(paragraphs).replace("- ", "- 补充：", 1)
