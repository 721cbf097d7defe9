"""The CI files offered to users parse, use the whole history, and call commands that exist with their options."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from doccontrol.cli import cli

TEMPLATES = sorted((Path(__file__).resolve().parent.parent / "doccontrol" / "templates" / "ci").glob("*.yml"))


@pytest.mark.parametrize("template", TEMPLATES, ids=[t.stem for t in TEMPLATES])
def test_a_ci_template_runs_real_commands_on_the_whole_history(template):
    text = template.read_text(encoding="utf-8")
    assert isinstance(yaml.safe_load(text), dict)
    assert "fetch-depth: 0" in text or 'GIT_DEPTH: "0"' in text
    commands = re.findall(r"doccontrol ([a-z-]+)((?: --?[a-z-]+(?: [^\s-][^\s]*)?)*)", text)
    assert {"check", "verify", "publish"} <= {name for name, _ in commands}
    for name, options in commands:
        help_text = CliRunner().invoke(cli, [name, "--help"]).output
        for option in re.findall(r"--[a-z-]+", options):
            assert option in help_text, f"{template.name}: doccontrol {name} has no {option}"
    assert "doccontrol guard" in text


def test_there_is_a_template_for_each_forge():
    assert [t.stem for t in TEMPLATES] == ["gitea-actions", "github-actions", "gitlab-ci"]
