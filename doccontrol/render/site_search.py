"""The search index, made to find what service staff type: time limits, amounts, numbers, form fields.

Material's search splits Chinese text into words (jieba) and the reader's query on the
same separator, so `24小时` in a query never meets `24 小时` in the text: the number and
its unit are separate words there. Each page's entries get a
`keys` field (searched, never shown) holding every number joined to the words that follow
it (24小时内, 5000元, 7日内); a form's first entry gets a `cells` field with the words of its
tables, which are kept out of the snippet text; a section titled with a document number
gets a `number` field with the number and its parts, ranked above everything else.
Snippets lose fill-in blanks (____) and never start with punctuation.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

INDEX = Path("search") / "search_index.json"
ZWSP = "\u200b"
HAN = "\u3400-\u4dbf\u4e00-\u9fff"
NUMBER_UNIT = re.compile(rf"(?<![0-9A-Za-z.\-/])([0-9]+(?:[.,][0-9]+)*)\s*([{HAN}%]{{1,4}})")
DOCUMENT_NUMBER = re.compile(r"[A-Z]{2,4}-[A-Z]{1,4}-[0-9]{2,4}")
BLANKS = re.compile(r"[_＿]{2,}|□")
LEADING_PUNCTUATION = re.compile(rf"^((?:\s|{ZWSP}|<[a-z]+>)*)[\s{ZWSP}、，。；：,.;:）)]+")
TAG = re.compile(r"<[^<>]*>")
SPACES = re.compile(rf"[ \t\n{ZWSP}]*[ \t\n]+[ \t\n{ZWSP}]*")


def finish_page_entries(entries: list[dict], form_words: str = "") -> list[dict]:
    """One page's entries as the site's index holds them (in place): snippets cleaned, `keys`, `number` and
    `cells` added. A page's entries depend on nothing but that page, so a build can keep them for a page it
    does not render again."""
    named = quoted_names(entries)
    for entry in entries:
        location = entry["location"]
        extra = form_words if "#" not in location else ""
        entry["text"] = clean_text(entry.get("text", ""))
        entry["keys"] = search_keys(*TAG.split(entry.get("title", "")), *TAG.split(entry["text"]), extra)
        entry["number"] = number_parts(plain(entry.get("title", "")))
        entry["cells"] = " ".join(dict.fromkeys(segmented(BLANKS.sub(" ", extra)).split()))
        if "#" not in location and location in named:
            entry["keys"] = " ".join(filter(None, [entry["keys"], named[location]]))
    return entries


def entries_json(entries: list[dict]) -> str:
    """The entries as they stand in the index file, comma-separated (one page's part of `docs`)."""
    return ",".join(json.dumps(entry, ensure_ascii=False, separators=(",", ":")) for entry in entries)


def write_search_index(site_dir: Path, config: dict, pages: list[str]) -> None:
    """The index file from the search configuration and each page's entries (`entries_json`), in page order;
    the same bytes as the whole index written with json.dumps."""
    docs = ",".join(part for part in pages if part)
    text = '{"config":' + json.dumps(config, ensure_ascii=False, separators=(",", ":")) + ',"docs":[' + docs + "]}"
    path = site_dir / INDEX
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    patch_query_segmentation(site_dir)


# Material's search worker cuts a Chinese query into the index's words, but never tries the query's
# last character: 三包 becomes 三 (and finds every 三…). The copy of the worker in the built site is
# corrected; with a Material version whose code differs, the worker is left as it is.
SEGMENTATION = "for(let o=s+1;o<t.length;o++)t.slice(s,o)in e&&(n[s]=o-s)"
SEGMENTATION_FIXED = "for(let o=s+1;o<=t.length;o++)t.slice(s,o)in e&&(n[s]=o-s)"


def patch_query_segmentation(site_dir: Path) -> bool:
    patched = False
    for worker in (site_dir / "assets" / "javascripts" / "workers").glob("search.*.js"):
        code = worker.read_text(encoding="utf-8")
        if SEGMENTATION in code:
            worker.write_text(code.replace(SEGMENTATION, SEGMENTATION_FIXED), encoding="utf-8")
            patched = True
    return patched


def plain(text: str) -> str:
    """Index text as words: without the zero-width spaces that separate them and the tags Material keeps."""
    return TAG.sub(" ", text).replace(ZWSP, "")


def clean_text(text: str) -> str:
    """Snippet text: no fill-in blanks or check boxes, single spaces, no punctuation at the start."""
    text = BLANKS.sub(" ", text)
    text = SPACES.sub(" ", text)
    return LEADING_PUNCTUATION.sub(r"\1", text).strip()


QUOTED = re.compile(rf"“([{HAN}]{{2,6}})”")


def quoted_names(entries: list[dict]) -> dict[str, str]:
    """For each page, the short terms its text sets in quotation marks (本规定是家用电器的“三包”规则):
    what a document names itself or defines. They become keys of the page's first entry, so that
    searching 三包 finds the 三包 regulation before the documents that merely apply it."""
    names: dict[str, dict[str, None]] = {}
    for entry in entries:
        page = entry["location"].split("#", 1)[0]
        for match in QUOTED.finditer(plain(entry.get("text", ""))):
            names.setdefault(page, {})[match.group(1)] = None
    return {page: " ".join(terms) for page, terms in names.items()}


def number_parts(title: str) -> str:
    """A section titled with a document number (a document's first section, a withdrawal) holds the number's
    parts as keys: the reader's query QP-SH-011 reaches the index as qp, sh and 011, and this entry holds all three."""
    match = DOCUMENT_NUMBER.match(title)
    return " ".join([match.group(0), *match.group(0).split("-")]) if match else ""


def search_keys(*texts: str) -> str:
    """Every number glued to the unit and words after it, once each (24 小时内 → 24小时内); a number that
    opens a title or a paragraph is a section number (4.1 客服专员…) and is left out."""
    keys: dict[str, None] = {}
    for text in texts:
        for match in NUMBER_UNIT.finditer(BLANKS.sub(" ", text.replace(ZWSP, "").strip())):
            if match.start() > 0:
                keys[match.group(1).replace(",", "") + match.group(2)] = None
    return " ".join(keys)


HAN_RUN = re.compile(f"[{HAN}]+")


def segmented(text: str) -> str:
    """Han text cut into words (jieba, as Material's search plugin does), separated by spaces."""
    try:
        import jieba
    except ImportError:  # pragma: no cover - jieba is a dependency
        return text
    return HAN_RUN.sub(lambda m: " " + " ".join(jieba.cut(m.group(0))) + " ", text)
