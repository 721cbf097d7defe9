"""The audit pack carries its signed record, and a certification body verifies it from the zip alone."""

from __future__ import annotations

import json
import subprocess
import zipfile
from pathlib import Path

import pytest

from conftest import invoke


@pytest.fixture
def pack(runner, released_repo, tmp_path) -> Path:
    out = tmp_path / "pack.zip"
    invoke(runner, released_repo, "pack", "--out", str(out))
    return out


def rewrite(pack: Path, out: Path, change) -> Path:
    """A copy of the pack with one member changed by change(name, data) -> data."""
    with zipfile.ZipFile(pack) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            dst.writestr(info, change(info.filename, src.read(info)))
    return out


def test_the_pack_verifies_on_its_own(runner, pack, tmp_path):
    names = zipfile.ZipFile(pack).namelist()
    assert "签名记录/signatures/configuration.jsonl" in names and "签名记录/allowed_signers" in names
    assert "签名记录/sources/procedures/QP-SH-001-客户投诉处理程序.md" in names
    manifest = json.loads(zipfile.ZipFile(pack).read("manifest.json"))
    entry = next(f for f in manifest["files"] if f["number"] == "QP-SH-001")
    assert [(s["role"], s["name"]) for s in entry["signatures"]] == [("审核", "周立新"), ("批准", "陈国华")]
    assert all(s["key"].startswith("SHA256:") for s in entry["signatures"])
    away = tmp_path / "elsewhere"
    away.mkdir()
    out = invoke(runner, away, "verify-pack", str(pack)).output
    assert out.splitlines()[-1].startswith("verified: 3 documents, 13 signatures verified cryptographically; "
                                           "trust anchor sha256:")


@pytest.mark.parametrize("member, change, problem", [
    ("签名记录/sources/procedures/QP-SH-001-客户投诉处理程序.md",
     lambda d: d.replace("24 小时".encode(), "72 小时".encode()), "its sha256 differs from the manifest"),
    ("程序文件/QP-SH-001-A0-客户投诉处理程序.docx", lambda d: d + b"\0", "its sha256 differs from the manifest"),
    ("签名记录/signatures/QP-SH-001.jsonl", lambda d: d.replace("周立新".encode(), "林慧".encode(), 1),
     "does not verify"),
], ids=["source-edited", "docx-edited", "ledger-edited"])
def test_a_changed_pack_does_not_verify(runner, pack, tmp_path, member, change, problem):
    changed = rewrite(pack, tmp_path / "changed.zip", lambda name, data: change(data) if name == member else data)
    out = invoke(runner, tmp_path, "verify-pack", str(changed), expect=1).output
    assert problem in out and "the pack does NOT verify" in out


def _with_source_rewritten(pack: Path, out: Path, old: str, new: str) -> Path:
    """A copy of the pack whose QP-SH-001 source has old replaced by new, with the manifest's hashes recomputed
    to match (what someone rewriting a pack would do)."""
    import hashlib

    member = "签名记录/sources/procedures/QP-SH-001-客户投诉处理程序.md"
    with zipfile.ZipFile(pack) as src:
        data = {info.filename: src.read(info) for info in src.infolist()}
    assert old.encode() in data[member]
    data[member] = data[member].replace(old.encode(), new.encode())
    manifest = json.loads(data["manifest.json"])
    for entry in manifest["files"]:
        entry["sha256"] = hashlib.sha256(data[entry["name"]]).hexdigest()
    data["manifest.json"] = json.dumps(manifest, ensure_ascii=False).encode()
    return rewrite(pack, out, lambda name, _old: data[name])


def test_a_source_changed_with_a_matching_manifest_is_still_caught(runner, pack, tmp_path):
    """Someone rewrites a source and recomputes the manifest's hashes: the signed fingerprint still differs."""
    changed = _with_source_rewritten(pack, tmp_path / "changed.zip", "24 小时", "72 小时")
    out = invoke(runner, tmp_path, "verify-pack", str(changed), expect=1).output
    assert "the source of QP-SH-001 is not the content its signers signed" in out


def test_a_revision_record_rewritten_in_the_pack_is_caught(runner, pack, tmp_path):
    """The approver column is not in the content fingerprint: a pack whose source names another approver (with
    the manifest recomputed) is held against the signed record, as `verify` holds the repository."""
    changed = _with_source_rewritten(pack, tmp_path / "changed.zip", "approved_by: 陈国华", "approved_by: 林慧")
    out = invoke(runner, tmp_path, "verify-pack", str(changed), expect=1).output
    assert ("the source of QP-SH-001: the revision record says QP-SH-001 A/0 was approved by 林慧, but the signed "
            "record's 批准 of A/0 is by 陈国华") in out


def test_verify_pack_says_the_word_copies_are_bound_only_by_the_unsigned_manifest(runner, pack, tmp_path):
    """What verify-pack does not prove, said where the auditor reads the verdict: a Word copy rewritten with its
    manifest entry recomputed still verifies, and the last line tells the auditor to rely on the signed sources."""
    import hashlib
    import io

    member = "程序文件/QP-SH-001-A0-客户投诉处理程序.docx"
    with zipfile.ZipFile(pack) as src:
        data = {info.filename: src.read(info) for info in src.infolist()}
    with zipfile.ZipFile(io.BytesIO(data[member])) as docx, io.BytesIO() as edited:
        with zipfile.ZipFile(edited, "w") as out:
            for info in docx.infolist():
                body = docx.read(info)
                out.writestr(info, body.replace(b"> 24 </w:t>", b"> 72 </w:t>")
                             if info.filename == "word/document.xml" else body)
        data[member] = edited.getvalue()
    assert b"> 72 </w:t>" in zipfile.ZipFile(io.BytesIO(data[member])).read("word/document.xml")
    manifest = json.loads(data["manifest.json"])
    for entry in manifest["files"]:
        entry["sha256"] = hashlib.sha256(data[entry["name"]]).hexdigest()
    data["manifest.json"] = json.dumps(manifest, ensure_ascii=False).encode()
    changed = rewrite(pack, tmp_path / "changed.zip", lambda name, old: data[name])
    last = invoke(runner, tmp_path, "verify-pack", str(changed)).output.splitlines()[-1]
    assert last.startswith("verified: 3 documents, 13 signatures verified cryptographically; trust anchor sha256:")
    assert last.endswith("; the signed text is the sources in 签名记录/sources/ (the Word files and lists match "
                         "only the manifest, which is not signed)")


def test_statements_in_the_pack_verify_with_openssh_alone(pack, tmp_path):
    with zipfile.ZipFile(pack) as archive:
        allowed = archive.read("签名记录/allowed_signers")
        line = json.loads(archive.read("签名记录/signatures/QP-SH-001.jsonl").decode().splitlines()[1])
    (tmp_path / "allowed").write_bytes(allowed)
    statement = json.dumps(line["statement"], ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
    (tmp_path / "statement.sig").write_text(line["signature"], encoding="utf-8")
    done = subprocess.run(["ssh-keygen", "-Y", "verify", "-f", str(tmp_path / "allowed"), "-I",
                           line["statement"]["name"], "-n", "doccontrol", "-s", str(tmp_path / "statement.sig")],
                          input=statement, capture_output=True)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("target, says", [
    ("doccontrol.yml", "the audit pack is a .zip file"),
    ("procedures/QP-SH-001-客户投诉处理程序.md", "the audit pack is a .zip file"),
    (".git/config", "the audit pack is a .zip file"),
    (".git/pack.zip", "it is inside .git/"),
    ("procedures/pack.zip", "it is inside procedures/"),
    ("signatures/pack.zip", "it is inside signatures/"),
], ids=["config", "controlled-file", "git-config", "git-folder", "controlled-folder", "ledger-folder"])
def test_pack_never_writes_over_the_repository(runner, released_repo, target, says):
    before = {p: p.read_bytes() for p in released_repo.rglob("*") if p.is_file()}
    out = invoke(runner, released_repo, "pack", "--out", str(released_repo / target), expect=1).output
    assert says in out and "refusing to write" in out
    assert {p: p.read_bytes() for p in released_repo.rglob("*") if p.is_file()} == before


def test_pack_replaces_only_its_own_files_unless_forced(runner, released_repo, tmp_path):
    other = tmp_path / "photos.zip"
    with zipfile.ZipFile(other, "w") as archive:
        archive.writestr("照片.jpg", b"not a pack")
    out = invoke(runner, released_repo, "pack", "--out", str(other), expect=1).output
    assert "refusing to replace" in out and "doccontrol did not write it" in out and "--force" in out
    assert zipfile.ZipFile(other).namelist() == ["照片.jpg"]
    invoke(runner, released_repo, "pack", "--out", str(other), "--force")
    assert "manifest.json" in zipfile.ZipFile(other).namelist()
    invoke(runner, released_repo, "pack", "--out", str(other))  # its own pack: replaced without --force


def test_export_never_writes_into_the_repository_folders(runner, released_repo, tmp_path):
    out = invoke(runner, released_repo, "export", "QP-SH-001", "--out", str(released_repo / "procedures"),
                 expect=1).output
    assert "it is inside procedures/" in out
    target = tmp_path / "out"
    first = Path(invoke(runner, released_repo, "export", "QP-SH-001", "--out", str(target)).stdout.strip())
    first.write_bytes(b"my own notes")
    out = invoke(runner, released_repo, "export", "QP-SH-001", "--out", str(target), expect=1).output
    assert "doccontrol did not write it" in out and first.read_bytes() == b"my own notes"
