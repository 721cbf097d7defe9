"""A strict YAML reader that remembers the line of every key.

PyYAML (fast, with its C parser) composes the node tree; we construct the values
ourselves so that duplicate keys, anchors and aliases, and non-text keys are errors
with a line number instead of silent surprises. Types (YAML 1.1 reads `03` as 3 and
`NO` as False) are left to the strict schema, which rejects the wrong type.
"""

from __future__ import annotations

from dataclasses import dataclass

import yaml

try:
    _Loader = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - PyYAML without libyaml
    _Loader = yaml.SafeLoader

MAX_NODES = 5000


class YamlProblem(Exception):
    """A YAML text that cannot be read; line is 1-based within the YAML text."""

    def __init__(self, line: int, message: str, fix: str = ""):
        super().__init__(message)
        self.line = line
        self.message = message
        self.fix = fix


@dataclass
class YamlDocument:
    data: object
    lines: dict[str, int]


def read_yaml(text: str) -> YamlDocument:
    """Parse one YAML document; `lines` maps dotted key paths ("prepared.name", "history.0") to lines."""
    if "\t" in text:
        line = text[: text.index("\t")].count("\n") + 1
        raise YamlProblem(line, "a tab character is used for indentation or inside YAML",
                          "replace tabs with spaces (YAML allows only spaces)")
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        problem = exc.problem or exc.context or "invalid YAML"
        raise YamlProblem(line, f"YAML syntax error: {problem}", _syntax_hint(problem)) from None
    except yaml.YAMLError as exc:
        raise YamlProblem(1, f"YAML error: {exc}") from None
    finally:
        loader.dispose()
    if node is None:
        return YamlDocument({}, {})
    builder = _Builder(loader)
    data = builder.build(node, "")
    return YamlDocument(data, builder.lines)


def _syntax_hint(problem: str) -> str:
    if "found character '\\t'" in problem:
        return "replace tabs with spaces"
    if "mapping values are not allowed" in problem:
        return "check the indentation, and quote a value that contains ': '"
    if "found unexpected end of stream" in problem or "while scanning a quoted scalar" in problem:
        return "close the quotation mark"
    return "check indentation and quoting on this line and the line before"


class _Builder:
    def __init__(self, loader):
        self.loader = loader
        self.lines: dict[str, int] = {}
        self.seen: set[int] = set()

    def build(self, node, path: str):
        if id(node) in self.seen or getattr(node, "anchor", None):
            raise YamlProblem(node.start_mark.line + 1, "YAML anchors and aliases (& and *) are not allowed",
                              "write the value out in full")
        self.seen.add(id(node))
        if len(self.seen) > MAX_NODES:
            raise YamlProblem(node.start_mark.line + 1, f"front matter has more than {MAX_NODES} values",
                              "keep metadata small; move long content into the document body")
        if path:
            self.lines[path] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, f"{path}.{i}" if path else str(i)) for i, item in enumerate(node.value)]
        return self._scalar(node)

    def _mapping(self, node, path: str) -> dict:
        result: dict = {}
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise YamlProblem(line, "YAML merge keys (<<) are not allowed", "write the keys out in full")
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag != "tag:yaml.org,2002:str":
                raw = getattr(key_node, "value", "?")
                raise YamlProblem(line, f"key {raw!r} is not read as text (YAML 1.1 reads on/off/yes/no and numbers specially)",
                                  f"quote the key: \"{raw}\":")
            key = key_node.value
            if key in result:
                raise YamlProblem(line, f"duplicate key {key!r}", "keep one of the two entries")
            child = f"{path}.{key}" if path else key
            self.lines[child] = line
            result[key] = self.build(value_node, child)
            self.lines[child] = line
        return result

    def _scalar(self, node):
        try:
            return self.loader.construct_object(node, deep=True)
        except yaml.YAMLError as exc:
            raise YamlProblem(node.start_mark.line + 1, f"cannot read value {node.value!r}: {exc}") from None
        except ValueError as exc:
            raise YamlProblem(node.start_mark.line + 1, f"invalid value {node.value!r}: {exc}",
                              "write dates as YYYY-MM-DD with a real day") from None
