"""The shipped after-sales service document set: complete, consistent, released through the tool."""

from __future__ import annotations

import re
import subprocess

import pytest

from doccontrol.workspace import Workspace

from conftest import ROOT, invoke

SEED_FORMS = ["产品维修记录表", "返修记录表", "顾客问题处理表", "客户回访记录表", "客户满意度调查表",
              "客户满意度分析报告", "顾客有效投诉处理率统计表", "用户退货记录表", "产品升级服务卡"]
MANUAL_CHAPTERS = ["颁布令", "管理者代表任命", "公司概况与组织机构", "职能分配表", "术语", "手册管理", "服务文化",
                   "服务制度", "服务体系", "配送与安装", "维修服务", "客户投诉", "客户管理", "服务改进", "自我评价"]
PROCEDURE_TOPICS = ["文件控制", "记录控制", "维修服务与技术支持", "上门维修", "返修", "退换货", "召回", "备品备件",
                    "维修设施", "服务网点", "投诉", "满意度", "配送与安装", "培训", "纠正和预防", "内部审核", "管理评审",
                    "风险评价", "变更管理", "废弃商品回收"]
PLACEHOLDERS = re.compile(r"XX|xx|【|】|TODO|TBD|（……）|\(\.\.\.\)|待补充|此处填写")


@pytest.fixture(scope="module")
def shipped():
    ws = Workspace(ROOT)
    return {doc.number: doc for doc in ws.documents()}


def test_check_is_clean_even_strict(runner, monkeypatch):
    monkeypatch.delenv("DOCCONTROL_NOW", raising=False)
    out = invoke(runner, ROOT, "check", "--strict").output
    assert re.fullmatch(r"checked \d+ documents: 0 errors, 0 warnings\n", out)


def test_the_set_is_complete(shipped):
    by_type = {}
    for doc in shipped.values():
        by_type.setdefault(doc.type, []).append(doc)
    assert len(by_type["manual"]) == 1
    assert len(by_type["procedure"]) >= 18
    assert len([d for d in by_type["form"] if d.status != "obsolete"]) >= 22
    assert len(by_type["external"]) >= 3
    titles = {d.title for d in shipped.values()}
    for title in SEED_FORMS + ["质量保修卡", "售后服务信息收集表", "受控文件清单", "文件发放回收登记表", "文件更改申请单"]:
        assert title in titles, title
    assert shipped["QR-SH-009"].title == "质量保修卡"
    procedure_titles = " ".join(d.title for d in by_type["procedure"])
    for topic in PROCEDURE_TOPICS:
        assert topic in procedure_titles, topic
    manual = by_type["manual"][0]
    chapters = " ".join(part.path for part in manual.parts)
    for chapter in MANUAL_CHAPTERS:
        assert chapter in chapters, chapter
    assert all(t in manual.full_text for t in ("达标级", "三星级", "四星级", "五星级"))


def test_procedures_have_the_required_sections(shipped):
    for doc in shipped.values():
        if doc.type != "procedure":
            continue
        headings = re.findall(r"^## \d+ (\S+)", doc.body, flags=re.M)
        assert headings[:6] == ["目的", "范围", "职责", "工作程序", "相关文件", "记录"], doc.number


def test_every_gbt27922_indicator_is_answered_by_the_manual_or_a_procedure(shipped):
    ws = Workspace(ROOT)
    indicators = [c for c in ws.config.clauses if re.fullmatch(r"GB27922-R\d+", c)]
    assert len(indicators) == 23
    answered = {c for d in shipped.values() if d.type in ("manual", "procedure") for c in d.clauses}
    assert [c for c in indicators if c not in answered] == []


def test_no_placeholder_text(shipped):
    for doc in shipped.values():
        for name, text in [(doc.path, doc.body), *((p.path, p.text) for p in doc.parts)]:
            match = PLACEHOLDERS.search(text)
            assert not match, f"{name}: placeholder {match.group(0)!r}"
            if doc.type != "form":
                assert "____" not in text, f"{name}: blank line outside a form"


def test_history_exercises_the_lifecycle(shipped):
    revisions = {d.number: d.revision for d in shipped.values()}
    assert any(r.endswith("/1") for r in revisions.values()), "some document at a later modification (A/1)"
    assert any(r.startswith("B/") for r in revisions.values()), "some document re-issued (B/0)"
    obsolete = [d for d in shipped.values() if d.status == "obsolete"]
    assert obsolete and all(d.superseded_by in shipped for d in obsolete)
    signed = [d for d in shipped.values() if d.status == "effective"]
    assert len(signed) >= 50 and all(d.reviewer and d.approver for d in signed)


def test_release_record_verifies_in_a_plain_clone(runner, tmp_path, monkeypatch):
    monkeypatch.delenv("DOCCONTROL_NOW", raising=False)
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", "--no-local", str(ROOT), str(clone)], check=True)
    out = invoke(runner, clone, "verify", "--restore-tags").output
    assert out.endswith("verified: the record is intact\n")
