"""The search index, made to find what service staff type: time limits, amounts, numbers, form fields.

Material's search splits Chinese text into words (jieba) and the reader's query on the
same separator, so `24小时` in a query never meets `24 小时` in the text: the number and
its unit are separate words there. After MkDocs has written the index, each entry gets a
`keys` field (searched, never shown) holding every number joined to the words that follow
it (24小时内, 5000元, 7日内), and, for a form, the words of its tables, which are kept out
of the snippet text. Snippets lose fill-in blanks (____) and never start with punctuation.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

INDEX = Path("search") / "search_index.json"
ZWSP = "\u200b"
HAN = "\u3400-\u4dbf\u4e00-\u9fff"
NUMBER_UNIT = re.compile(rf"(?<![0-9A-Za-z.])([0-9]+(?:[.,][0-9]+)*)\s*([{HAN}%]{{1,4}})")
BLANKS = re.compile(r"[_＿]{2,}|□")
LEADING_PUNCTUATION = re.compile(rf"^[\s{ZWSP}、，。；：,.;:）)]+")
SPACES = re.compile(rf"[ \t\n{ZWSP}]*[ \t\n]+[ \t\n{ZWSP}]*")


def finish_search_index(site_dir: Path, form_words: dict[str, str]) -> None:
    path = site_dir / INDEX
    if not path.is_file():
        return
    index = json.loads(path.read_text(encoding="utf-8"))
    for entry in index["docs"]:
        location = entry["location"]
        page = location.split("#", 1)[0]
        extra = form_words.get(page, "") if "#" not in location else ""
        entry["text"] = clean_text(entry.get("text", ""))
        entry["keys"] = search_keys(f"{plain(entry.get('title', ''))} {plain(entry['text'])} {extra}", extra)
    path.write_text(json.dumps(index, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")


def plain(text: str) -> str:
    return text.replace(ZWSP, "")


def clean_text(text: str) -> str:
    """Snippet text: no fill-in blanks or check boxes, single spaces, no punctuation at the start."""
    text = BLANKS.sub(" ", text)
    text = SPACES.sub(" ", text)
    return LEADING_PUNCTUATION.sub("", text).strip()


def search_keys(text: str, table_words: str = "") -> str:
    """Every number glued to the unit and words after it, once each (24 小时内 → 24小时内), then the words
    of a form's tables, segmented as the search plugin segments the text."""
    keys: dict[str, None] = {}
    for match in NUMBER_UNIT.finditer(BLANKS.sub(" ", text)):
        keys[match.group(1).replace(",", "") + match.group(2)] = None
    words = dict.fromkeys(w for w in segmented(BLANKS.sub(" ", table_words)).split() if w)
    return " ".join([*keys, *words])


HAN_RUN = re.compile(f"[{HAN}]+")


def segmented(text: str) -> str:
    """Han text cut into words (jieba, as Material's search plugin does), separated by spaces."""
    try:
        import jieba
    except ImportError:  # pragma: no cover - jieba is a dependency
        return text
    return HAN_RUN.sub(lambda m: " " + " ".join(jieba.cut(m.group(0))) + " ", text)
