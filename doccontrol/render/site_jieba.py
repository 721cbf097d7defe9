"""jieba's dictionary, read a first character at a time, as the texts being cut reach it.

Material's search plugin and the index's keys (site_search.segmented) cut Chinese text with
jieba's default tokenizer, which reads its whole dictionary (about 500,000 words and
prefixes) before its first cut: 0.6 s or more, paid by every build that renders one page.
The tokenizer only ever asks about words that start at a position of the text it cuts (and
adding a word, about that word's prefixes), so it is given its own dictionary split by first
character, and each character's words are read before a text holding that character is cut.
The words, their frequencies and the total are the ones jieba reads from its dictionary, so
the cuts are those jieba makes with the whole dictionary loaded.

The split dictionary is kept in this user's cache folder (never the repository's, like the
compiled templates), one file per jieba version and dictionary digest, made from jieba's own
reading of its dictionary the first time; each character's words are a marshalled dict, as in
jieba's own cache. Anything unexpected leaves jieba as it is: it then reads its dictionary itself.
"""

from __future__ import annotations

import contextlib
import hashlib
import marshal
import os
import sqlite3
from collections.abc import Callable, Iterable
from pathlib import Path

from ..fileio import private_temp_path, remove_stale

FORMAT = 2


def use_split_dictionary(cache: Path | None) -> bool:
    """Give jieba's default tokenizer its dictionary by first character (see the module's docstring); False when
    jieba is missing, was set up already, or the split dictionary cannot be had."""
    try:
        import jieba
    except ImportError:  # pragma: no cover - jieba is a dependency
        return False
    tokenizer = jieba.dt
    if tokenizer.initialized or cache is None:
        return False
    try:
        words = SplitDictionary(split_file(cache, tokenizer))
    except (OSError, sqlite3.Error, ValueError):
        return False
    tokenizer.FREQ, tokenizer.total = words.freq, words.total
    tokenizer.get_DAG = words.reading_first(tokenizer.get_DAG, lambda sentence: sentence)
    tokenizer.add_word = words.reading_first(tokenizer.add_word, lambda word, *rest, **named: jieba.strdecode(word)[:1])
    tokenizer.initialized = True
    return True


class SplitDictionary:
    """The words of one split dictionary file, read into `freq` one first character at a time."""

    def __init__(self, path: Path):
        self.db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
        self.total = int(self.db.execute("SELECT total FROM summary").fetchone()[0])
        self.freq: dict[str, int] = {}
        self.read: set[str] = set()

    def reading_first(self, method: Callable, characters: Callable[..., str]) -> Callable:
        """method, after reading the words that start with each character `characters` picks from its arguments."""

        def wrapped(*args, **named):
            self.read_words_of(characters(*args, **named))
            return method(*args, **named)

        return wrapped

    def read_words_of(self, characters: Iterable[str]) -> None:
        for character in set(characters) - self.read:
            self.read.add(character)
            row = self.db.execute("SELECT words FROM words WHERE first = ?", (character,)).fetchone()
            if row is not None:
                for word, freq in marshal.loads(row[0]).items():
                    self.freq.setdefault(word, freq)


def split_file(cache: Path, tokenizer) -> Path:
    """The split dictionary of the tokenizer's dictionary in cache, made when it is not there yet."""
    from importlib.metadata import version

    with tokenizer.get_dict_file() as handle:
        digest = hashlib.sha256(handle.read()).hexdigest()
    path = cache / f"jieba-{version('jieba')}-{digest[:32]}-{FORMAT}.sqlite"
    if not path.is_file():
        cache.mkdir(parents=True, exist_ok=True, mode=0o700)
        write_split(path, *tokenizer.gen_pfdict(tokenizer.get_dict_file()))
    return path


def write_split(path: Path, freq: dict[str, int], total: int) -> None:
    """Write the words by first character, whole or not at all (a temporary renamed into place)."""
    groups: dict[str, dict[str, int]] = {}
    for word, count in freq.items():
        groups.setdefault(word[:1], {})[word] = count
    remove_stale(path.parent, f".{path.name}.", ".tmp")
    temporary = private_temp_path(path.parent, f".{path.name}.", ".tmp")
    try:
        with contextlib.closing(sqlite3.connect(temporary)) as db, db:
            db.execute("CREATE TABLE summary (total INTEGER NOT NULL)")
            db.execute("INSERT INTO summary VALUES (?)", (total,))
            db.execute("CREATE TABLE words (first TEXT PRIMARY KEY, words BLOB NOT NULL)")
            db.executemany("INSERT INTO words VALUES (?, ?)",
                           ((first, marshal.dumps(words)) for first, words in groups.items()))
        os.replace(temporary, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
