"""`doccontrol init` makes a working repository in one step, for a company that is not ours, in English."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from conftest import KEYS, git, invoke


@pytest.mark.parametrize("locale, catalogue", [("en", "iso9001"), ("zh", "gb27922"), ("en", "iso13485"),
                                               ("zh", "none")])
def test_init_gives_a_repository_that_checks_clean_at_once(runner, tmp_path, locale, catalogue):
    root = tmp_path / "acme"
    out = invoke(runner, tmp_path, "init", str(root), "--locale", locale, "--company", "ACME Appliances Ltd",
                 "--catalogue", catalogue, "--name", "Alice Smith", "--key", str(KEYS["林慧"])).output
    assert "the configuration is approved as version 1 by Alice Smith" in out
    assert "trust anchor: sha256:" in out
    assert invoke(runner, root, "check").output == "checked 0 documents: 0 errors, 0 warnings\n"
    config = yaml.safe_load((root / "doccontrol.yml").read_text(encoding="utf-8"))
    assert config["locale"] == locale and config["company"] == "ACME Appliances Ltd"
    assert git(root, "status", "--porcelain") == ""
    assert ".doccontrol-cache/" in (root / ".gitignore").read_text(encoding="utf-8")
    assert "verified: the record is intact; 1 signatures" in invoke(runner, root, "verify").output


def test_an_english_company_from_init_to_publish(runner, tmp_path):
    root = tmp_path / "acme"
    invoke(runner, tmp_path, "init", str(root), "--locale", "en", "--company", "ACME", "--name", "Alice",
           "--key", str(KEYS["林慧"]))
    config = (root / "doccontrol.yml").read_text(encoding="utf-8")
    bob = " ".join(Path(str(KEYS["周立新"]) + ".pub").read_text().split()[:2])
    carol = " ".join(Path(str(KEYS["孙小雨"]) + ".pub").read_text().split()[:2])
    config = config.replace("policy:", "  Bob:\n    position: Managing director\n    department: Management\n"
                            f"    keys: ['{bob}']\n    rights: {{approve: [procedure, form]}}\n"
                            "  Carol:\n    position: Engineer\n    department: Service\n"
                            f"    keys: ['{carol}']\n\npolicy:")
    (root / "doccontrol.yml").write_text(config, encoding="utf-8")
    invoke(runner, root, "config", "approve", "--key", str(KEYS["林慧"]))
    path = invoke(runner, root, "new", "procedure", "Complaint handling", "--author", "Carol").output.strip()
    assert path == "procedures/SOP-001-Complainthandling.md"
    invoke(runner, root, "submit", "SOP-001", "--key", str(KEYS["孙小雨"]))
    invoke(runner, root, "approve", "SOP-001", "--role", "review", "--key", str(KEYS["林慧"]))
    invoke(runner, root, "approve", "SOP-001", "--role", "approve", "--key", str(KEYS["周立新"]))
    invoke(runner, root, "release", "SOP-001", "--key", str(KEYS["林慧"]))
    out = invoke(runner, root, "publish", "--site", str(tmp_path / "site"), "--pack", str(tmp_path / "pack.zip"))
    assert "site: 1 documents" in out.output and "audit pack: 1 documents" in out.output


def test_init_refuses_a_folder_in_use_and_a_missing_key(runner, tmp_path):
    (tmp_path / "used").mkdir()
    (tmp_path / "used" / "notes.txt").write_text("x")
    out = invoke(runner, tmp_path, "init", str(tmp_path / "used"), "--key", str(KEYS["林慧"]), expect=1).output
    assert "is not empty" in out
    out = invoke(runner, tmp_path, "init", str(tmp_path / "new"), "--name", "A", "--key",
                 str(tmp_path / "nokey"), expect=1).output
    assert "cannot read the signing key" in out
