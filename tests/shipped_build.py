"""The repository's own document set, built once per test session: its site and its audit pack."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import ROOT, invoke

AS_OF = "2026-11-29"  # the set as released on 2026-11-28 (the manual from 11-29), before the follow-ups of 12-15


@pytest.fixture(scope="session")
def shipped_outputs(tmp_path_factory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("shipped")
    runner = CliRunner()
    invoke(runner, ROOT, "build", "--as-of", AS_OF, "--out", str(out / "site"))
    invoke(runner, ROOT, "pack", "--as-of", AS_OF, "--out", str(out / "pack.zip"))
    return {"site": out / "site", "pack": out / "pack.zip"}
