"""Pictures: shown on the site and in Word from the approved bytes, bound to the approval like the text."""

from __future__ import annotations

import hashlib
import io
import json
import re
import shutil
import struct
import subprocess
import zipfile
import zlib
from pathlib import Path

import pytest

from conftest import git, init_repo, invoke, release_all, served

PROC = "procedures/QP-SH-001-客户投诉处理程序.md"
PICTURE = "images/QP-SH-001/投诉流程.png"


def png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A real PNG of one colour (what a browser, pandoc and LibreOffice decode)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    rows = b"".join(b"\0" + bytes(rgb) * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


RED, BLUE = png(120, 60, (200, 30, 30)), png(120, 60, (30, 30, 200))


def with_picture(root: Path, data: bytes = RED) -> None:
    """The procedure, still a draft, shows a picture of the complaint flow."""
    (root / PICTURE).parent.mkdir(parents=True, exist_ok=True)
    (root / PICTURE).write_bytes(data)
    text = (root / PROC).read_text(encoding="utf-8")
    shown = "![投诉处理流程图](images/QP-SH-001/投诉流程.png)\n\n## 5 相关文件"
    (root / PROC).write_text(text.replace("## 5 相关文件", shown), encoding="utf-8")


@pytest.fixture
def pictured(tmp_path, runner) -> Path:
    """A released procedure that shows a picture (submitted with it, approved and released)."""
    root = init_repo(tmp_path / "repo", with_manual=False, submit=False)
    with_picture(root)
    invoke(runner, root, "submit", "QP-SH-001", "QR-SH-001")
    release_all(runner, root, manual=False)
    return root


def test_submit_commits_the_picture_with_the_text(runner, tmp_path):
    root = init_repo(tmp_path / "repo", with_manual=False, submit=False)
    with_picture(root)
    invoke(runner, root, "submit", "QP-SH-001")
    assert git(root, "status", "--porcelain") == ""
    assert PICTURE in git(root, "-c", "core.quotepath=false", "show", "--name-only", "--format=", "HEAD")


def test_a_picture_replaced_after_approval_is_an_edit(runner, pictured):
    invoke(runner, pictured, "check")
    (pictured / PICTURE).write_bytes(BLUE)
    out = invoke(runner, pictured, "check", expect=1).output
    assert ("QP-SH-001 A/0 was changed after its release: the text (or a picture it shows) is not what was approved"
            " [edited-after-release]") in out
    git(pictured, "commit", "-qam", "a better flow chart")
    assert "[edited-after-release]" in invoke(runner, pictured, "verify", expect=1).output


def test_the_site_shows_the_approved_picture_even_after_the_file_changed(runner, pictured, tmp_path, chromium):
    (pictured / PICTURE).write_bytes(BLUE)  # an uncommitted swap: the release commit still holds RED
    out = tmp_path / "site"
    invoke(runner, pictured, "build", "--out", str(out))
    page = (out / "QP-SH-001" / "index.html").read_text(encoding="utf-8")
    sources = re.findall(r'<img alt="投诉处理流程图" src="([^"]+)"', page)
    assert len(sources) == 1 and sources[0].startswith("../assets/pictures/")
    assert (out / "QP-SH-001" / sources[0]).resolve().read_bytes() == RED
    with served(out) as url:
        page = chromium.new_page()
        page.goto(f"{url}/QP-SH-001/")
        size = page.eval_on_selector('img[alt="投诉处理流程图"]', "img => [img.complete, img.naturalWidth]")
        page.close()
    assert size == [True, 120]


def test_word_embeds_the_approved_picture(runner, pictured, tmp_path):
    (pictured / PICTURE).write_bytes(BLUE)
    invoke(runner, pictured, "export", "QP-SH-001", "--out", str(tmp_path / "out"))
    docx = next((tmp_path / "out").glob("QP-SH-001-*.docx"))
    with zipfile.ZipFile(docx) as package:
        media = [name for name in package.namelist() if name.startswith("word/media/")]
        assert [package.read(name) for name in media] == [RED]
        body = package.read("word/document.xml").decode()
        rels = package.read("word/_rels/document.xml.rels").decode()
    embedded = re.findall(r'r:embed="([^"]+)"', body)
    assert len(embedded) == 1 and f'Id="{embedded[0]}"' in rels
    assert "投诉处理流程图" in body  # the description stays as the picture's text for a screen reader
    pdf = to_pdf(docx, tmp_path)
    images = subprocess.run(["pdfimages", "-list", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert re.search(r"\s120\s+60\s", images), images  # LibreOffice lays the picture out on the page


def test_each_word_file_of_a_batch_carries_only_its_own_pictures(runner, tmp_path, monkeypatch):
    monkeypatch.setattr("os.cpu_count", lambda: 1)  # one pandoc process: both documents in one batch
    root = init_repo(tmp_path / "repo", with_manual=False, submit=False)
    with_picture(root)
    form = root / "forms/QR-SH-001-顾客问题处理表.md"
    (root / "images/QR-SH-001").mkdir(parents=True)
    (root / "images/QR-SH-001/签字栏.png").write_bytes(BLUE)
    form.write_text(form.read_text(encoding="utf-8") + "\n![签字栏示例](images/QR-SH-001/签字栏.png)\n",
                    encoding="utf-8")
    invoke(runner, root, "submit", "QP-SH-001", "QR-SH-001")
    release_all(runner, root, manual=False)
    pack = tmp_path / "pack.zip"
    invoke(runner, root, "pack", "--out", str(pack))
    with zipfile.ZipFile(pack) as archive:
        words = {name: archive.read(name) for name in archive.namelist() if name.endswith(".docx")
                 and "QP-SH-001" in name or name.endswith(".docx") and "QR-SH-001" in name}
    seen = {}
    for name, data in words.items():
        with zipfile.ZipFile(io.BytesIO(data)) as package:
            seen[name.split("/")[-1][:9]] = [package.read(n) for n in package.namelist() if n.startswith("word/media/")]
    assert seen == {"QP-SH-001": [RED], "QR-SH-001": [BLUE]}


def test_the_pack_proves_its_pictures(runner, pictured, tmp_path):
    pack = tmp_path / "pack.zip"
    invoke(runner, pictured, "pack", "--out", str(pack))
    verified = invoke(runner, pictured, "verify-pack", str(pack)).output.splitlines()[-1]
    assert verified.startswith("verified: 2 documents")
    with zipfile.ZipFile(pack) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        entry = next(e for e in manifest["files"] if e.get("number") == "QP-SH-001")
        member = entry["pictures"][PICTURE]
        assert archive.read(member) == RED
        members = {info.filename: archive.read(info) for info in archive.infolist()}
    members[member] = BLUE  # swapped, and the manifest's sha256 recomputed so only the signature can tell
    for item in manifest["files"]:
        if item["name"] == member:
            item["sha256"] = hashlib.sha256(BLUE).hexdigest()
    members["manifest.json"] = json.dumps(manifest, ensure_ascii=False).encode()
    forged = tmp_path / "forged.zip"
    with zipfile.ZipFile(forged, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    out = invoke(runner, pictured, "verify-pack", str(forged), expect=1).output
    assert "the source of QP-SH-001 is not the content its signers signed" in out


def test_an_unapproved_picture_file_never_reaches_the_site(runner, tmp_path):
    """A picture added to images/ but not shown by any released text is not published."""
    root = init_repo(tmp_path / "repo", with_manual=False)
    release_all(runner, root, manual=False)
    (root / "images/QP-SH-001").mkdir(parents=True)
    (root / "images/QP-SH-001/私人.png").write_bytes(RED)
    git(root, "add", "-A")
    git(root, "commit", "-qm", "a stray picture")
    out = tmp_path / "site"
    invoke(runner, root, "build", "--out", str(out))
    assert not list(out.rglob("*.png")) or all(p.read_bytes() != RED for p in out.rglob("*.png"))


def to_pdf(docx: Path, tmp_path: Path) -> Path:
    office = shutil.which("soffice") or shutil.which("libreoffice")
    assert office, "LibreOffice is needed for this test"
    subprocess.run([office, "--headless", f"-env:UserInstallation=file://{tmp_path}/lo", "--convert-to", "pdf",
                    "--outdir", str(tmp_path), str(docx)], capture_output=True, check=True, timeout=180)
    return tmp_path / (docx.stem + ".pdf")


def test_an_incremental_build_after_a_new_picture_is_the_cold_build(runner, pictured, tmp_path):
    from test_incremental import build, rendered, revise, same_as_cold

    site = tmp_path / "site"
    build(runner, pictured, site)
    red = hashlib.sha256(RED).hexdigest()
    assert (site / "assets" / "pictures" / f"{red}.png").read_bytes() == RED

    def new_picture(text: str) -> str:
        (pictured / PICTURE).write_bytes(BLUE)
        return text

    revise(runner, pictured, "QP-SH-001", PROC, new_picture, reason="流程图更新")
    done, total, why = rendered(build(runner, pictured, site))
    assert 0 < done < total and why == "QP-SH-001 A/1 released"
    blue = hashlib.sha256(BLUE).hexdigest()
    page = (site / "QP-SH-001" / "index.html").read_text(encoding="utf-8")
    assert f"assets/pictures/{blue}.png" in page and red not in page
    assert not (site / "assets" / "pictures" / f"{red}.png").exists()
    same_as_cold(runner, pictured, site, tmp_path, "picture")


def test_a_warm_verify_sees_a_picture_replaced_since_the_last_one(runner, pictured):
    invoke(runner, pictured, "verify", "--restore-tags")
    invoke(runner, pictured, "verify")  # remembered: the next verify with nothing changed reads it back
    (pictured / PICTURE).write_bytes(BLUE)
    assert "[edited-after-release]" in invoke(runner, pictured, "verify", expect=1).output
