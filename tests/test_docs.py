"""CONTRIBUTING.md's module map names every module of doccontrol/, and only modules that exist."""

from __future__ import annotations

import re
from pathlib import Path

from conftest import ROOT

MAP_ENTRY = re.compile(r"^- `(doccontrol/[^`]*)`:", re.M)


def map_problems(text: str, root: Path) -> list[str]:
    """What is wrong with a module map: modules it misses, entries naming nothing, entries given twice.

    A subpackage named as a whole (`doccontrol/importer/`) covers its modules; otherwise each
    module of a subpackage needs its own line. `__init__.py` files need none."""
    entries = MAP_ENTRY.findall(text)
    named = set(entries)
    problems = [f"{entry} is listed twice" for entry in sorted(named) if entries.count(entry) > 1]
    problems += [f"{entry} does not exist" for entry in sorted(named) if not (root / entry).exists()]
    for path in sorted((root / "doccontrol").rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        if path.name == "__init__.py" or rel in named:
            continue
        if any(rel.startswith(entry) for entry in named if entry.endswith("/")):
            continue
        problems.append(f"{rel} is missing from the module map")
    return problems


def test_the_module_map_names_every_module_and_nothing_else():
    text = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
    assert MAP_ENTRY.findall(text), "CONTRIBUTING.md has no module map"
    assert map_problems(text, ROOT) == []


def test_the_module_map_check_catches_a_missing_and_an_invented_module():
    text = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
    without_pack = re.sub(r"^- `doccontrol/pack\.py`:.*\n", "", text, flags=re.M)
    assert map_problems(without_pack, ROOT) == ["doccontrol/pack.py is missing from the module map"]
    invented = text + "- `doccontrol/render/pdf.py`: PDF files.\n"
    assert map_problems(invented, ROOT) == ["doccontrol/render/pdf.py does not exist"]
    twice = text + "- `doccontrol/repo.py`: the only module that talks to git.\n"
    assert map_problems(twice, ROOT) == ["doccontrol/repo.py is listed twice"]


def test_the_readme_links_the_contributing_guide():
    assert "(CONTRIBUTING.md)" in (ROOT / "README.md").read_text(encoding="utf-8")
