"""Incremental builds: after a change, `build` renders only what changed, and its site is byte for byte
the site a cold build (`--no-cache`) makes of the same record. Real repositories, real signatures."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from conftest import git, invoke, write

PROC = "procedures/QP-SH-001-客户投诉处理程序.md"
RENDERED = re.compile(r"; ([0-9,]+) of ([0-9,]+) pages rebuilt \((.*)\)$")


def files_of(site: Path) -> dict[str, bytes]:
    return {p.relative_to(site).as_posix(): p.read_bytes() for p in sorted(site.rglob("*")) if p.is_file()}


def build(runner, root: Path, out: Path, *args: str, expect: int = 0):
    return invoke(runner, root, "build", "--out", str(out), *args, expect=expect)


def rendered(result) -> tuple[int, int, str]:
    """(pages rendered, pages in the site, why) from build's last line."""
    match = RENDERED.search(result.output.strip().splitlines()[-1])
    assert match, result.output
    return int(match.group(1).replace(",", "")), int(match.group(2).replace(",", "")), match.group(3)


def same_as_cold(runner, root: Path, site: Path, tmp_path: Path, name: str) -> None:
    """The incremental site holds exactly the files, with exactly the bytes, of a cold build of the same record."""
    cold = tmp_path / f"cold-{name}"
    build(runner, root, cold, "--no-cache")
    ours, theirs = files_of(site), files_of(cold)
    assert sorted(ours) == sorted(theirs)
    differing = [name for name in ours if ours[name] != theirs[name]]
    assert differing == []


def read(root: Path, rel: str) -> str:
    return (root / rel).read_text(encoding="utf-8")


def revise(runner, root: Path, number: str, rel: str, edit, reason: str = "修订") -> None:
    invoke(runner, root, "revise", number, "--reason", reason, "--author", "孙小雨")
    text = read(root, rel)
    write(root, rel, edit(text))
    invoke(runner, root, "submit", number)
    invoke(runner, root, "approve", number, "--as", "林慧", "--role", "审核")
    invoke(runner, root, "approve", number, "--as", "周立新", "--role", "批准")
    invoke(runner, root, "release", number)


def new_procedure(runner, root: Path, title: str) -> str:
    path = invoke(runner, root, "new", "procedure", title, "--author", "孙小雨").output.strip()
    text = read(root, path)
    write(root, path, text + "\n## 1 目的\n\n客户投诉按 QP-SH-001 处理，24 小时内答复。\n")
    number = re.search(r"QP-SH-[0-9]+", path).group(0)
    invoke(runner, root, "submit", number)
    invoke(runner, root, "approve", number, "--as", "林慧", "--role", "审核")
    invoke(runner, root, "approve", number, "--as", "周立新", "--role", "批准")
    invoke(runner, root, "release", number)
    return number


def test_every_incremental_build_is_the_cold_build_byte_for_byte(runner, released_repo, tmp_path):
    site = tmp_path / "out" / "site"
    first = build(runner, released_repo, site)
    done, total, why = rendered(first)
    assert done == total > 8 and why == "no earlier build to keep pages from"
    same_as_cold(runner, released_repo, site, tmp_path, "first")

    revise(runner, released_repo, "QP-SH-001", PROC, lambda t: t + "\n## 9 补充\n\n回访在 3 个工作日内完成。\n")
    done, total, why = rendered(build(runner, released_repo, site))
    assert 0 < done < total and why == "QP-SH-001 A/1 released"
    same_as_cold(runner, released_repo, site, tmp_path, "release")

    # a new title: the manual's chapter that cites QP-SH-001 shows the title in its link, so it is rendered too
    chapter = (site / "QM-SH-01" / "01" / "index.html").read_bytes()
    revise(runner, released_repo, "QP-SH-001", PROC,
           lambda t: t.replace("title: 客户投诉处理程序", "title: 顾客投诉处理程序"), reason="更名")
    done, total, why = rendered(build(runner, released_repo, site))
    assert 0 < done < total and why == "QP-SH-001 A/2 released"
    assert (site / "QM-SH-01" / "01" / "index.html").read_bytes() != chapter
    assert "顾客投诉处理程序" in (site / "QM-SH-01" / "01" / "index.html").read_text(encoding="utf-8")
    same_as_cold(runner, released_repo, site, tmp_path, "title")

    # a document more or less in a tab changes every page (Material writes whitespace for each entry of a
    # folded tab into the pages of the other tabs)
    number = new_procedure(runner, released_repo, "服务回访程序")
    done, total, why = rendered(build(runner, released_repo, site))
    assert done == total and why == f"{number} A/0 published"
    same_as_cold(runner, released_repo, site, tmp_path, "new")

    invoke(runner, released_repo, "obsolete", "QR-SH-001", "--reason", "并入新版表单", "--as", "陈国华")
    done, total, why = rendered(build(runner, released_repo, site))
    assert done == total and why == "QR-SH-001 withdrawn"
    assert not (site / "QR-SH-001").exists()
    same_as_cold(runner, released_repo, site, tmp_path, "withdrawn")


def test_nothing_changed_leaves_the_site_as_it_is(runner, released_repo, tmp_path):
    site = tmp_path / "site"
    build(runner, released_repo, site)
    before = {name: os.stat(site / name).st_ino for name in files_of(site)}
    again = build(runner, released_repo, site)
    assert rendered(again)[0] == 0 and rendered(again)[2] == "nothing changed"
    assert again.output.startswith("built 3 documents into")
    assert {name: os.stat(site / name).st_ino for name in files_of(site)} == before


def test_kept_pages_are_linked_from_the_previous_site_not_written_again(runner, released_repo, tmp_path):
    site = tmp_path / "site"
    build(runner, released_repo, site)
    kept = os.stat(site / "QR-SH-001" / "index.html")
    revise(runner, released_repo, "QP-SH-001", PROC, lambda t: t + "\n补充。\n")
    build(runner, released_repo, site)
    after = os.stat(site / "QR-SH-001" / "index.html")
    assert (after.st_ino, after.st_mtime_ns) == (kept.st_ino, kept.st_mtime_ns)
    assert os.stat(site / "QP-SH-001" / "index.html").st_ino != kept.st_ino


def test_a_page_edited_in_the_site_is_rendered_again(runner, released_repo, tmp_path):
    site = tmp_path / "site"
    build(runner, released_repo, site)
    page = site / "QP-SH-001" / "index.html"
    good = page.read_bytes()
    page.write_bytes(good.replace("客户投诉处理程序".encode(), "被改过的标题".encode()))
    done, total, why = rendered(build(runner, released_repo, site))
    assert done == 1 and why == "pages of the earlier build were changed or removed since"
    assert page.read_bytes() == good
    # an edit that keeps the size and the modification time is caught by the change time
    stat = os.stat(page)
    with open(page, "r+b") as handle:
        handle.write(b"<!-- x -->")
    os.utime(page, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert rendered(build(runner, released_repo, site))[0] == 1
    assert page.read_bytes() == good


def test_a_configuration_change_renders_every_page(runner, released_repo, tmp_path):
    site = tmp_path / "site"
    build(runner, released_repo, site)
    write(released_repo, "mkdocs.yml", "title: 澄源受控文件\n")
    git(released_repo, "add", "-A")
    invoke(runner, released_repo, "config", "approve", "--as", "陈国华")
    done, total, why = rendered(build(runner, released_repo, site))
    assert done == total and why == "the site's configuration changed"
    assert "澄源受控文件" in (site / "QR-SH-001" / "index.html").read_text(encoding="utf-8")
    same_as_cold(runner, released_repo, site, tmp_path, "config")


def test_a_new_day_writes_the_new_date_into_the_pages_it_keeps(runner, released_repo, tmp_path, monkeypatch):
    site = tmp_path / "site"
    build(runner, released_repo, site)
    kept = os.stat(site / "QR-SH-001" / "index.html").st_ino
    monkeypatch.setenv("DOCCONTROL_NOW", "2026-11-21T09:00:00+08:00")
    done, total, why = rendered(build(runner, released_repo, site))
    assert 0 < done < total and why.startswith(f"a new day: {total - done} pages kept with the new date written in")
    page = (site / "QR-SH-001" / "index.html").read_text(encoding="utf-8")
    assert "（截至 2026-11-21）" in page and "2026-11-20）" not in page
    assert os.stat(site / "QR-SH-001" / "index.html").st_ino != kept  # a new file: the old site is left as it was
    same_as_cold(runner, released_repo, site, tmp_path, "day")
    revise(runner, released_repo, "QP-SH-001", PROC, lambda t: t + "\n补充。\n")  # and the day after that
    monkeypatch.setenv("DOCCONTROL_NOW", "2026-11-22T09:00:00+08:00")
    build(runner, released_repo, site)
    same_as_cold(runner, released_repo, site, tmp_path, "next-day")


def test_another_version_of_doccontrol_renders_every_page(runner, released_repo, tmp_path, monkeypatch):
    from doccontrol.render import site_state

    site = tmp_path / "site"
    build(runner, released_repo, site)
    monkeypatch.setattr(site_state, "code_version", lambda: "another version of the code or of a library")
    done, total, why = rendered(build(runner, released_repo, site))
    assert done == total and why == "doccontrol or its libraries changed"


def test_a_record_that_this_user_did_not_write_is_ignored(runner, released_repo, tmp_path):
    site = tmp_path / "site"
    build(runner, released_repo, site)
    records = sorted((released_repo / ".doccontrol-cache" / "site").glob("*.pickle"))
    assert len(records) == 2
    for record in records:
        data = bytearray(record.read_bytes())
        data[0] ^= 1  # the seal no longer matches: as if planted, or written with another user's key
        record.write_bytes(bytes(data))
    done, total, why = rendered(build(runner, released_repo, site))
    assert done == total and why == "no earlier build to keep pages from"


def test_a_changed_logo_is_refused_even_when_nothing_else_changed(runner, released_repo, tmp_path):
    write(released_repo, "mkdocs.yml", "logo: assets/logo.png\n")
    write(released_repo, "assets/logo.png", "")
    (released_repo / "assets" / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 64)
    git(released_repo, "add", "-A")
    invoke(runner, released_repo, "config", "approve", "--as", "陈国华")
    site = tmp_path / "site"
    build(runner, released_repo, site)
    (released_repo / "assets" / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\1" * 64)
    refused = build(runner, released_repo, site, expect=1).output
    assert "the logo assets/logo.png is not the image the configuration approved" in refused


def test_a_failed_incremental_build_keeps_the_site_and_the_next_one_still_keeps_pages(runner, released_repo,
                                                                                    tmp_path, monkeypatch):
    import mkdocs.commands.build

    site = tmp_path / "out" / "site"
    build(runner, released_repo, site)
    before = files_of(site)
    revise(runner, released_repo, "QP-SH-001", PROC, lambda t: t + "\n补充。\n")
    real = mkdocs.commands.build.build

    def broken(config, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(mkdocs.commands.build, "build", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        build(runner, released_repo, site)
    assert files_of(site) == before
    assert sorted(p.name for p in site.parent.iterdir()) == ["site"]
    monkeypatch.setattr(mkdocs.commands.build, "build", real)
    done, total, why = rendered(build(runner, released_repo, site))
    assert 0 < done < total and why == "QP-SH-001 A/1 released"
    same_as_cold(runner, released_repo, site, tmp_path, "after-failure")


def test_a_preview_keeps_pages_too_and_matches_a_cold_preview(runner, released_repo, tmp_path):
    preview = tmp_path / "preview"
    build(runner, released_repo, preview, "--preview")
    invoke(runner, released_repo, "revise", "QP-SH-001", "--reason", "草稿修改", "--author", "孙小雨")
    write(released_repo, PROC, read(released_repo, PROC) + "\n草稿中的新段落。\n")
    done, total, why = rendered(build(runner, released_repo, preview, "--preview"))
    assert 0 < done < total
    cold = tmp_path / "cold-preview"
    build(runner, released_repo, cold, "--preview", "--no-cache")
    assert files_of(preview) == files_of(cold)


def test_publish_says_what_it_rebuilt_and_why_in_one_line(runner, released_repo):
    first = invoke(runner, released_repo, "publish").output.strip().splitlines()[-1]
    assert re.fullmatch(r"site: ([0-9]+) of \1 pages rebuilt \(no earlier build to keep pages from\); "
                        r"pack: 3 of 3 documents converted", first), first
    revise(runner, released_repo, "QP-SH-001", PROC, lambda t: t + "\n补充。\n")
    last = invoke(runner, released_repo, "publish").output.strip().splitlines()[-1]
    match = re.fullmatch(r"site: ([0-9]+) of ([0-9]+) pages rebuilt \(QP-SH-001 A/1 released\); "
                         r"pack: 1 of 3 documents converted", last)
    assert match and 0 < int(match.group(1)) < int(match.group(2)), last
    again = invoke(runner, released_repo, "publish").output.strip().splitlines()[-1]
    assert re.fullmatch(r"site: 0 of [0-9]+ pages rebuilt \(nothing changed\); pack: 0 of 3 documents converted",
                        again), again


def test_a_new_revision_renders_its_pages_its_list_the_register_and_the_home_page(runner, released_repo, tmp_path,
                                                                                  monkeypatch):
    from doccontrol.render import site_reuse

    site = tmp_path / "site"
    build(runner, released_repo, site)
    rendered_now: list[str] = []
    real = site_reuse.PageReuse.on_post_page

    def spy(self, output, *, page, config):
        result = real(self, output, page=page, config=config)
        if result:
            rendered_now.append(page.file.src_uri)
        return result

    monkeypatch.setattr(site_reuse.PageReuse, "on_post_page", spy)
    revise(runner, released_repo, "QP-SH-001", PROC, lambda t: t + "\n补充。\n")
    build(runner, released_repo, site)
    assert sorted(rendered_now) == ["QP-SH-001.md", "_doccontrol/redline.md", "index.md", "procedure/index.md",
                                    "register.md"]
    assert (site / "QP-SH-001" / "redline" / "index.html").is_file()


def test_mkdocs_reads_and_builds_only_the_pages_rendered_again(runner, released_repo, tmp_path, monkeypatch):
    import mkdocs.commands.build

    site = tmp_path / "site"
    build(runner, released_repo, site)
    seen: dict[str, list[str]] = {"read": [], "built": []}
    populate, build_page = mkdocs.commands.build._populate_page, mkdocs.commands.build._build_page

    def reading(page, *args, **kwargs):
        seen["read"].append(page.file.src_uri)
        return populate(page, *args, **kwargs)

    def building(page, *args, **kwargs):
        seen["built"].append(page.file.src_uri)
        return build_page(page, *args, **kwargs)

    monkeypatch.setattr(mkdocs.commands.build, "_populate_page", reading)
    monkeypatch.setattr(mkdocs.commands.build, "_build_page", building)
    revise(runner, released_repo, "QP-SH-001", PROC, lambda t: t + "\n补充。\n")
    build(runner, released_repo, site)
    assert sorted(seen["read"]) == sorted(seen["built"]) == ["QP-SH-001.md", "_doccontrol/redline.md", "index.md",
                                                             "procedure/index.md", "register.md"]
    assert '"location":"clauses/"' in (site / "search" / "search_index.json").read_text(encoding="utf-8")  # kept
    same_as_cold(runner, released_repo, site, tmp_path, "loops")


def test_the_sitemap_lists_the_kept_pages_too(runner, released_repo, tmp_path):
    write(released_repo, "mkdocs.yml", "site_url: https://docs.example.com/\n")
    git(released_repo, "add", "-A")
    invoke(runner, released_repo, "config", "approve", "--as", "陈国华")
    site = tmp_path / "site"
    build(runner, released_repo, site)
    revise(runner, released_repo, "QP-SH-001", PROC, lambda t: t + "\n补充。\n")
    build(runner, released_repo, site)
    sitemap = (site / "sitemap.xml").read_text(encoding="utf-8")
    assert "https://docs.example.com/QP-SH-001/" in sitemap and "https://docs.example.com/clauses/" in sitemap
    same_as_cold(runner, released_repo, site, tmp_path, "sitemap")
    build(runner, released_repo, site)  # nothing changed
    (site / "assets" / "doccontrol" / "print" / "QP-SH-001.css").write_text("edited", encoding="utf-8")
    assert rendered(build(runner, released_repo, site))[0] == 0  # every page kept: MkDocs builds none
    same_as_cold(runner, released_repo, site, tmp_path, "sitemap-again")


def test_publish_proves_the_record_once_for_the_site_and_the_pack(runner, released_repo, monkeypatch):
    from doccontrol import proof, publication

    real = proof.prove
    proofs: list[bool] = []

    def counted(repo, verifier, cache=None, rev="HEAD", full=True):
        proofs.append(full)
        return real(repo, verifier, cache, rev, full)

    monkeypatch.setattr(publication, "prove", counted)
    invoke(runner, released_repo, "publish")
    assert proofs == [False]  # verify proved everything (audit.prove); site, redlines and pack share one proof
    proofs.clear()
    invoke(runner, released_repo, "pack", "--out", str(released_repo / "dist" / "again.zip"))
    assert proofs == [False]


def test_a_link_planted_in_the_site_is_gone_after_the_next_build(runner, released_repo, tmp_path):
    site = tmp_path / "site"
    build(runner, released_repo, site)
    forged = tmp_path / "forged.html"
    forged.write_text("<h1>QP-SH-001 B/0 生效</h1>", encoding="utf-8")
    (site / "QP-SH-001" / "rev-z").mkdir()
    (site / "QP-SH-001" / "rev-z" / "index.html").symlink_to(forged)
    (site / "etc").symlink_to("/etc")
    build(runner, released_repo, site)
    assert not (site / "QP-SH-001" / "rev-z").exists() and not (site / "etc").is_symlink()
    same_as_cold(runner, released_repo, site, tmp_path, "planted")


def test_text_that_looks_like_the_date_mark_is_shown_as_written(runner, released_repo, tmp_path):
    import subprocess
    import sys

    def mark() -> str:
        code = "from doccontrol.render.site_reuse import AS_OF_MARK; print(AS_OF_MARK)"
        return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()

    earlier = mark()
    assert earlier != mark()  # drawn anew in every process: a document cannot know it
    revise(runner, released_repo, "QP-SH-001", PROC, lambda t: t + f"\n本程序有效期至 {earlier}，逾期作废。\n")
    site = tmp_path / "site"
    build(runner, released_repo, site)
    assert f"本程序有效期至 {earlier}，逾期作废。" in (site / "QP-SH-001" / "index.html").read_text(encoding="utf-8")
