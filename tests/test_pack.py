"""The audit pack: contents, a manifest that verifies, identical rebuilds, atomic writes, a content cache."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import tempfile
import zipfile
from pathlib import Path

import docx
import pytest
from conftest import git, invoke
from docx.oxml.ns import qn

from doccontrol.pack import build_pack
from doccontrol.render import docx as render_docx
from doccontrol.workspace import Workspace

PROC = "procedures/QP-SH-001-客户投诉处理程序.md"
DOCUMENTS = {
    "手册/QM-SH-01-A0-售后服务手册.docx": "QM-SH-01",
    "程序文件/QP-SH-001-A0-客户投诉处理程序.docx": "QP-SH-001",
    "记录表单/QR-SH-001-A0-顾客问题处理表.docx": "QR-SH-001",
}
LISTS = {"受控文件清单.docx", "受控文件清单.csv", "条款对照表.docx", "manifest.json"}


def pack(runner, root: Path, out: Path, *args: str) -> bytes:
    invoke(runner, root, "pack", "--out", str(out), *args)
    return out.read_bytes()


def entries(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def cache_files(root: Path) -> set[str]:
    return {p.name for p in (root / ".doccontrol-cache" / "docx").glob("*/*.docx") if not p.name.startswith("reference-")}


def test_pack_holds_documents_in_force_lists_and_a_manifest_that_verifies(runner, released_repo, tmp_path):
    files = entries(pack(runner, released_repo, tmp_path / "pack.zip"))
    assert {name for name in files if not name.startswith("签名记录/")} == set(DOCUMENTS) | LISTS

    release_commit = git(released_repo, "log", "-1", "--format=%H", "--grep", "^release:").strip()
    manifest = json.loads(files["manifest.json"])
    assert manifest["as_of"] == "2026-11-20" and manifest["documents"] == 3
    listed = {entry["name"]: entry for entry in manifest["files"]}
    assert set(listed) == set(files) - {"manifest.json"}
    for name, entry in listed.items():
        assert entry["sha256"] == hashlib.sha256(files[name]).hexdigest()
        assert entry["bytes"] == len(files[name])
    for name, number in DOCUMENTS.items():
        assert (listed[name]["number"], listed[name]["revision"], listed[name]["commit"]) == (number, "A/0", release_commit)
        props = docx.Document(io.BytesIO(files[name])).core_properties
        assert (props.identifier, props.version) == (number, "A/0")

    rows = list(csv.reader(io.StringIO(files["受控文件清单.csv"].decode("utf-8-sig"))))
    assert rows[0][:4] == ["文件编号", "文件名称", "类别", "版本/修改码"]
    assert [row[0] for row in rows[1:]] == ["QM-SH-01", "QP-SH-001", "QR-SH-001"]
    register = docx.Document(io.BytesIO(files["受控文件清单.docx"]))
    assert [row.cells[0].text for row in register.tables[0].rows] == ["文件编号", "QM-SH-01", "QP-SH-001", "QR-SH-001"]

    matrix = docx.Document(io.BytesIO(files["条款对照表.docx"])).tables[0]
    answers = {row.cells[0].text: row.cells[4].text for row in matrix.rows[1:]}
    assert set(answers) == {"GB27922-6.3", "ISO9001-7.5"}
    assert "QM-SH-01 售后服务手册" in answers["GB27922-6.3"] and "QP-SH-001 客户投诉处理程序" in answers["GB27922-6.3"]
    assert "QP-SH-001" in answers["ISO9001-7.5"] and "QM-SH-01" not in answers["ISO9001-7.5"]


def test_two_packs_from_the_same_commit_are_byte_identical(runner, released_repo, tmp_path):
    first = pack(runner, released_repo, tmp_path / "one.zip")
    second = pack(runner, released_repo, tmp_path / "two.zip", "--no-cache")
    assert first == second
    with zipfile.ZipFile(io.BytesIO(first)) as archive:
        assert {info.date_time for info in archive.infolist()} == {(2026, 11, 20, 0, 0, 0)}
        assert [info.filename for info in archive.infolist()] == sorted(archive.namelist())
    for name in DOCUMENTS:
        with zipfile.ZipFile(io.BytesIO(entries(first)[name])) as package:
            assert {info.date_time for info in package.infolist()} == {(2026, 11, 20, 0, 0, 0)}


def test_a_draft_opened_after_release_does_not_change_the_pack(runner, released_repo, tmp_path):
    before = pack(runner, released_repo, tmp_path / "before.zip")
    invoke(runner, released_repo, "revise", "QP-SH-001", "--reason", "增加电话回访要求", "--author", "孙小雨")
    path = released_repo / PROC
    path.write_text(path.read_text(encoding="utf-8") + "\n草稿中新增的一句话。\n", encoding="utf-8")
    after = pack(runner, released_repo, tmp_path / "after.zip")
    assert after == before
    text = "\n".join(p.text for p in docx.Document(io.BytesIO(entries(after)[
        "程序文件/QP-SH-001-A0-客户投诉处理程序.docx"])).paragraphs)
    assert "草稿中新增的一句话" not in text


def test_an_interrupted_pack_leaves_the_previous_zip_and_no_temporary_files(released_repo, tmp_path, monkeypatch):
    ws = Workspace(released_repo)
    out = tmp_path / "dist" / "pack.zip"
    build_pack(ws, out)
    previous = out.read_bytes()
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    finish, calls = render_docx.finish, []

    def interrupted(parts, item):
        calls.append(item.doc.number)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return finish(parts, item)

    monkeypatch.setattr(render_docx, "finish", interrupted)
    with pytest.raises(KeyboardInterrupt):
        build_pack(ws, out, use_cache=False)
    assert len(calls) == 2
    assert out.read_bytes() == previous
    assert [p.name for p in out.parent.iterdir()] == ["pack.zip"]
    assert list(scratch.iterdir()) == []
    assert not [p for p in (released_repo / ".doccontrol-cache").rglob("*") if p.name.endswith(".tmp")]


def test_a_warm_repack_converts_only_the_document_that_changed(runner, released_repo, tmp_path):
    ws = Workspace(released_repo)
    seen = []
    first = build_pack(ws, tmp_path / "pack.zip", progress=lambda done, total: seen.append((done, total)))
    assert (first.documents, first.converted) == (3, 3)
    assert seen[0] == (0, 3) and seen[-1] == (3, 3)
    cached = cache_files(released_repo)
    assert len(cached) == 3

    invoke(runner, released_repo, "revise", "QP-SH-001", "--reason", "增加电话回访要求", "--author", "孙小雨")
    invoke(runner, released_repo, "submit", "QP-SH-001")
    invoke(runner, released_repo, "approve", "QP-SH-001", "--as", "林慧", "--role", "审核")
    invoke(runner, released_repo, "approve", "QP-SH-001", "--as", "周立新", "--role", "批准")
    invoke(runner, released_repo, "release", "QP-SH-001")

    ws = Workspace(released_repo)  # a Workspace proves the record once (one command); the release came after
    second = build_pack(ws, tmp_path / "pack.zip")
    assert (second.documents, second.converted) == (3, 1)
    assert len(cache_files(released_repo) - cached) == 1
    names = set(entries((tmp_path / "pack.zip").read_bytes()))
    assert "程序文件/QP-SH-001-A1-客户投诉处理程序.docx" in names
    assert "程序文件/QP-SH-001-A0-客户投诉处理程序.docx" not in names
    assert build_pack(ws, tmp_path / "pack.zip").converted == 0


def test_conversions_of_another_renderer_version_are_dropped(runner, released_repo, tmp_path):
    old = released_repo / ".doccontrol-cache" / "docx" / "0123456789abcdef"
    old.mkdir(parents=True)
    (old / "stale.docx").write_bytes(b"from an earlier doccontrol")
    pack(runner, released_repo, tmp_path / "pack.zip")
    versions = [p.name for p in (released_repo / ".doccontrol-cache" / "docx").iterdir()]
    assert versions == [render_docx.renderer_version()]
    assert len(cache_files(released_repo)) == 3


def test_every_document_in_the_pack_is_marked_uncontrolled(runner, released_repo, tmp_path):
    files = entries(pack(runner, released_repo, tmp_path / "pack.zip"))
    for name in DOCUMENTS:
        document = docx.Document(io.BytesIO(files[name]))
        footers = [p.text for s in document.sections for p in s.footer.paragraphs + s.first_page_footer.paragraphs]
        assert any(f.startswith("受控状态：非受控") for f in footers), (name, footers)
        assert not any("受控状态：受控" in f for f in footers), name
        text = "\n".join(p.text for p in document.paragraphs) + "\n".join(
            c.text for t in document.tables for r in t.rows for c in r.cells)
        assert "非受控" in text, name
    manifest = json.loads(files["manifest.json"])
    assert manifest["copy"].startswith("非受控")


def test_the_register_lists_withdrawals_and_every_list_page_is_numbered(runner, released_repo, tmp_path, monkeypatch):
    import datetime as dt

    from doccontrol.model import Finding
    from doccontrol.publication import Change
    from doccontrol.workspace import Workspace as RealWorkspace

    real = RealWorkspace.in_force
    withdrawal = Change("QR-SH-009", "旧派工单", "", "withdrawal", dt.date(2026, 11, 18), "QR-SH-001", "合并")
    held = Finding("procedures/QP-SH-002-x.md", 1, "release-signature", "the 批准 signature does not verify", "sign again")

    def in_force(self, as_of, use_cache=None):
        pub = real(self, as_of, use_cache)
        pub.withdrawn, pub.held_back, pub.unsigned = [withdrawal], [held], True
        return pub

    monkeypatch.setattr(RealWorkspace, "in_force", in_force)
    files = entries(pack(runner, released_repo, tmp_path / "pack.zip"))
    register = docx.Document(io.BytesIO(files["受控文件清单.docx"]))
    withdrawn = register.tables[1]
    assert [[c.text for c in row.cells] for row in withdrawn.rows] == [
        ["文件编号", "文件名称", "作废日期", "替代文件", "作废原因"], ["QR-SH-009", "旧派工单", "2026-11-18", "QR-SH-001", "合并"]]
    text = "\n".join(p.text for p in register.paragraphs)
    assert "签名未经密钥验证" in text and "the 批准 signature does not verify" in text
    rows = list(csv.reader(io.StringIO(files["作废文件.csv"].decode("utf-8-sig"))))
    assert rows[1] == ["QR-SH-009", "旧派工单", "2026-11-18", "QR-SH-001", "合并"]
    for name in ("受控文件清单.docx", "条款对照表.docx"):
        header = docx.Document(io.BytesIO(files[name])).sections[0].header
        assert name.removesuffix(".docx") in header.paragraphs[0].text and "页 共" in header.paragraphs[0].text
        assert [el.text.strip() for el in header._element.iter(qn("w:instrText"))] == ["PAGE", "NUMPAGES"]
        table_rows = docx.Document(io.BytesIO(files[name])).element.body.iter(qn("w:tr"))
        assert all(tr.find(qn("w:trPr")).find(qn("w:cantSplit")) is not None for tr in table_rows)
    manifest = json.loads(files["manifest.json"])
    assert manifest["withdrawn"] == [{"number": "QR-SH-009", "title": "旧派工单", "date": "2026-11-18",
                                      "superseded_by": "QR-SH-001", "reason": "合并"}]
    assert manifest["signatures"].startswith("not key-verified")
    assert manifest["held_back"][0]["message"] == "the 批准 signature does not verify"
    cover = docx.Document(io.BytesIO(files["程序文件/QP-SH-001-A0-客户投诉处理程序.docx"]))
    assert any(p.text.startswith("签名未经密钥验证") for p in cover.paragraphs)
