"""Tables for the terminal and for files: one formatter for every listing (table, csv, json, md)."""

from __future__ import annotations

import csv
import io
import json
import unicodedata


def format_table(headers: list[str], values: list[list[str]], records: list[dict], fmt: str) -> str:
    """values are the cells under headers; records are the same rows for json (with stable English keys)."""
    if fmt == "json":
        return json.dumps(records, ensure_ascii=False, indent=2) + "\n"
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(headers)
        writer.writerows(values)
        return out.getvalue()
    if fmt == "md":
        lines = ["| " + " | ".join(headers) + " |", "|" + " --- |" * len(headers)]
        lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in values]
        return "\n".join(lines) + "\n"
    return aligned(headers, values)


def aligned(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max([width(h)] + [width(r[i]) for r in rows]) for i, h in enumerate(headers)]

    def line(cells):
        return "  ".join(cell + " " * (w - width(cell)) for cell, w in zip(cells, widths)).rstrip()

    return "\n".join([line(headers), line(["-" * w for w in widths])] + [line(r) for r in rows]) + "\n"


def width(text: str) -> int:
    """Terminal columns: CJK characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
