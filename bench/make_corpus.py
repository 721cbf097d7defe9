#!/usr/bin/env python3
"""Make a realistic synthetic document repository for benchmarks.

    python3 bench/make_corpus.py N DIR [--seed S] [--no-tags] [--unsigned]

N controlled documents of the three tiers (manuals as multi-file folders; procedures;
work instructions and forms), Chinese text with headings, nested lists, a table and
cross-references, valid metadata, and a git history in which every document went
through several released revisions: a draft commit that submits it (the preparer's signed
statement), then a release commit with the signed 审核, 批准 and release statements and a
lightweight release tag. Deterministic for a seed: the same N and seed give the same keys,
files and commit ids.

The history is written by one `git fast-import` process; the working tree is then
checked out from it. Every person's key is derived from the seed and its private half is
written to demo-keys/ in the working tree (ignored, not committed), so that a benchmark can
sign further steps; `doccontrol check` finds no errors and `doccontrol
verify` finds the record intact.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import subprocess
import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import hashlib  # noqa: E402

from cryptography.hazmat.primitives import serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ed25519  # noqa: E402

from doccontrol.ledger import to_line  # noqa: E402
from doccontrol.model import Document, HistoryRow, Part, Prepared, fingerprint  # noqa: E402
from doccontrol.roster import configuration_content, roster_of  # noqa: E402
from doccontrol.schema import CatalogueModel, ConfigModel  # noqa: E402
from doccontrol.signing import PublicKey, load_signer  # noqa: E402
from doccontrol.site_options import SiteOptions, site_content  # noqa: E402
from doccontrol.statements import ROLE_MEANINGS, content_fingerprint, parse_statement, statement_bytes  # noqa: E402
from doccontrol.yamlread import read_yaml  # noqa: E402

TZ = dt.timezone(dt.timedelta(hours=8))
NOW = "2026-11-20T10:00:00+08:00"  # the benchmark's pinned DOCCONTROL_NOW
# Revisions released together in one release commit (after one draft commit); the history
# has about 2 * revisions / mean(BATCH) commits (fast-import's cost grows with commits x folder size).
BATCH = (4, 16)
WIDTH = 4  # serial digits for procedures, instructions and forms (numbers in text match 2-4 digits)
# Windows in which revisions happen; a document with k revisions uses the last k windows,
# so every document's current revision is less than a year old on NOW.
WINDOWS = [
    (dt.datetime(2023, 1, 3, 9, tzinfo=TZ), dt.datetime(2023, 12, 15, 9, tzinfo=TZ)),
    (dt.datetime(2024, 1, 3, 9, tzinfo=TZ), dt.datetime(2024, 12, 15, 9, tzinfo=TZ)),
    (dt.datetime(2025, 1, 3, 9, tzinfo=TZ), dt.datetime(2025, 11, 15, 9, tzinfo=TZ)),
    (dt.datetime(2025, 12, 1, 9, tzinfo=TZ), dt.datetime(2026, 11, 1, 9, tzinfo=TZ)),
]

ALL_TYPES = "[manual, procedure, instruction, form]"
# name: (position, department, rights, may change the configuration)
PEOPLE = {
    "陈国华": ("总经理", "总经理办公室", f"{{review: {ALL_TYPES}, approve: {ALL_TYPES}}}", True),
    "周立新": ("管理者代表", "质量部", f"{{review: {ALL_TYPES}, approve: [procedure, instruction, form]}}", False),
    "林慧": ("质量部经理", "质量部", "{review: [procedure, instruction, form]}", False),
    "赵明": ("售后服务部经理", "售后服务部", "{review: [procedure, instruction, form]}", False),
    "郑海": ("技术部经理", "技术部", "{review: [procedure, instruction, form]}", False),
    "孙小雨": ("文控员", "质量部", f"{{release: {ALL_TYPES}}}", False),
    "吴婷": ("客服中心主管", "客服中心", "{}", False),
    "何静": ("行政人事部主任", "行政人事部", "{}", False),
    "王芳": ("质量工程师", "质量部", "{}", False),
    "李强": ("维修工程师", "维修中心", "{}", False),
    "刘洋": ("物流专员", "物流部", "{}", False),
}
KEY_FOLDER = "demo-keys"


def private_key(name: str, seed: int) -> ed25519.Ed25519PrivateKey:
    """Each person's key, derived from the seed: the same corpus has the same keys."""
    return ed25519.Ed25519PrivateKey.from_private_bytes(hashlib.sha256(f"corpus-key:{seed}:{name}".encode()).digest())


def public_line(name: str, seed: int) -> str:
    raw = private_key(name, seed).public_key().public_bytes(serialization.Encoding.OpenSSH,
                                                            serialization.PublicFormat.OpenSSH)
    return PublicKey.parse(raw.decode()).openssh


def config_text(seed: int, unsigned: bool = False) -> str:
    lines = ["# doccontrol configuration of a synthetic benchmark repository (bench/make_corpus.py).",
             "company: 苏州澄源家电科技有限公司", "system: 售后服务管理体系", "clause_catalogue: clauses.yml",
             "default_review_months: 12", "max_modification: 9", "types:",
             "  manual: {label: 手册, prefix: QM, department: SH, width: 2, folder: docs}",
             f"  procedure: {{label: 程序文件, prefix: QP, department: SH, width: {WIDTH}, folder: procedures}}",
             f"  instruction: {{label: 作业指导书, prefix: QI, department: SH, width: {WIDTH}, folder: procedures}}",
             f"  form: {{label: 记录表单, prefix: QR, department: SH, width: {WIDTH}, folder: forms}}", "people:"]
    for name, (position, department, rights, configure) in PEOPLE.items():
        lines += [f"  {name}:", f"    position: {position}", f"    department: {department}",
                  f"    keys: ['{public_line(name, seed)}']", f"    rights: {rights}"]
        if configure:
            lines.append("    configure: true")
    if unsigned:
        lines += ["policy:", "  signatures: unsigned"]
    return "\n".join(lines) + "\n"


CLAUSE_LIST = [
    ("GB27922-1.1", "服务理念", True), ("GB27922-1.2", "服务承诺", True), ("GB27922-2.1", "服务规范", True),
    ("GB27922-2.2", "服务流程", True), ("GB27922-2.4", "服务制度管理", True), ("GB27922-3.2", "服务网点", True),
    ("GB27922-3.4", "业务培训", True), ("GB27922-4.2", "配送服务", True), ("GB27922-4.3", "安装调试", True),
    ("GB27922-5.1", "维修保障", True), ("GB27922-5.4", "技术支持", True), ("GB27922-6.1", "投诉渠道", True),
    ("GB27922-6.3", "投诉处理", True), ("GB27922-7.2", "客户关系", True), ("GB27922-8.1", "服务改进", True),
    ("ISO9001-7.5", "成文信息", False), ("ISO9001-7.5.3", "成文信息的控制", False),
    ("ISO9001-8.2", "产品和服务的要求", False), ("ISO9001-9.2", "内部审核", False),
    ("ISO9001-9.3", "管理评审", False), ("ISO9001-10.2", "不合格和纠正措施", False),
]
CLAUSES = ("standards:\n  GB27922: GB/T 27922-2011 商品售后服务评价体系\n  ISO9001: ISO 9001:2015 质量管理体系 要求\n"
           "clauses:\n" + "".join(f"  {cid}: {{title: {title}, required: {'true' if req else 'false'}}}\n"
                                  for cid, title, req in CLAUSE_LIST))
GITIGNORE = (".doccontrol-cache/\nsite/\npreview/\ndist/\n"
             "# the derived keys (OpenSSH writes random check bytes into a key file, so they are not committed)\n"
             "/demo-keys/\n")

PREPARERS = ["孙小雨", "吴婷", "何静", "王芳", "李强", "刘洋"]
REVIEWERS = ["林慧", "赵明", "郑海", "周立新"]
APPROVERS = ["周立新", "陈国华"]
DEPARTMENTS = ["质量部", "售后服务部", "客服中心", "技术部", "物流部", "行政人事部", "维修中心", "备件库"]

TOPICS = [
    "文件控制", "记录控制", "客户投诉处理", "维修服务", "上门安装", "配送服务", "备件管理", "返修管理", "培训管理",
    "内部审核", "管理评审", "纠正措施", "预防措施", "服务网点管理", "客户回访", "满意度调查", "技术支持",
    "服务承诺管理", "收费管理", "产品召回", "数据分析", "供方评价", "服务人员考核", "工具设备管理", "仓储管理",
    "服务信息反馈", "质量保修", "延保服务", "以旧换新", "热线服务", "在线客服", "服务质量监督", "应急处理",
    "安全作业", "包装运输", "安装验收", "故障诊断", "维修质量检验", "旧件回收", "服务标准化",
]
FORM_KINDS = ["登记表", "记录表", "申请单", "检查表", "统计表", "评价表", "确认单", "台账", "报告单", "回执"]
INSTR_KINDS = ["作业指导书", "操作规范", "检验规范", "服务规范", "工作细则"]
PROC_KINDS = ["控制程序", "管理程序", "工作程序"]
MANUAL_TITLES = ["售后服务手册", "服务质量手册", "网点服务手册", "维修服务手册", "客户服务手册"]

SUBJECTS = ["客服专员", "维修工程师", "服务网点", "质量部", "文控员", "部门经理", "仓库管理员", "配送人员",
            "技术支持工程师", "管理者代表", "回访专员", "培训专员", "安装人员", "备件管理员", "各归口部门"]
VERBS = ["负责", "应及时", "按规定", "定期", "在接到通知后", "每月", "每季度", "在作业前", "在完成后", "必要时"]
ACTIONS = ["登记客户信息并确认故障现象", "核对产品型号和购买凭证", "填写服务记录并由客户签字确认",
           "将处理结果录入服务系统", "检查工具和备件是否齐全", "向客户说明收费标准和保修政策",
           "对更换的旧件进行标识和回收", "分析投诉原因并提出改进措施", "组织相关人员进行评审",
           "跟踪纠正措施的实施效果", "对服务过程进行抽查", "汇总统计数据并形成报告",
           "按约定时间上门并出示工作证", "对安装环境进行安全检查", "测试产品功能并演示正确使用方法",
           "保持作业现场整洁", "对不合格备件进行隔离和退换", "在规定时限内响应客户诉求", "保存相关记录以备追溯",
           "向上级报告重大异常情况"]
QUALIFIERS = ["确保服务质量满足顾客要求", "防止问题重复发生", "使顾客满意", "保证记录真实完整", "符合国家有关规定",
              "提高一次修复率", "缩短服务响应时间", "避免造成财产损失", "便于统计分析和持续改进"]
SECTION_TITLES = ["目的", "范围", "职责", "术语和定义", "工作程序", "相关文件", "记录"]
STEP_NAMES = ["受理", "派工", "上门", "检测", "维修", "验收", "回访", "归档", "评审", "关闭"]
LIMITS = ["2 小时", "4 小时", "24 小时", "48 小时", "3 个工作日", "5 个工作日", "7 天", "每月 5 日前"]
SUMMARIES = ["根据内部审核意见修订职责分工", "调整服务响应时限", "补充上门服务安全要求", "更新相关记录表单编号",
             "按管理评审决议修改工作流程", "增加投诉升级处理要求", "修改备件申领审批权限", "完善数据统计与分析要求",
             "根据顾客反馈优化回访频次", "补充服务网点考核内容"]


@dataclass
class Spec:
    """One controlled document of the corpus and how its revisions unfold."""

    index: int
    type: str
    number: str
    title: str
    department: str
    path: str  # main file, repository-relative
    folder: str | None = None  # the folder of a manual
    parts: list[str] = field(default_factory=list)  # part file names of a manual
    references: list[str] = field(default_factory=list)
    clauses: list[str] = field(default_factory=list)
    revisions: list[str] = field(default_factory=list)
    orientation: str | None = None


def plan(n: int, seed: int) -> list[Spec]:
    """The documents: how many of each tier, their numbers, titles, links and revision sequence."""
    rng = random.Random(f"plan:{seed}:{n}")
    manuals = max(1, min(99, n // 250))
    rest = n - manuals
    procedures = max(1, rest * 25 // 100) if rest else 0
    instructions = rest * 30 // 100
    forms = rest - procedures - instructions
    if max(procedures, instructions, forms) >= 10 ** WIDTH:
        raise SystemExit(f"N={n} is too large: at most {10 ** WIDTH - 1} documents of one type")
    specs: list[Spec] = []
    serial_titles: set[str] = set()

    def title_of(kinds: list[str]) -> str:
        for _ in range(50):
            title = rng.choice(TOPICS) + rng.choice(kinds)
            if title not in serial_titles:
                break
            title = rng.choice(TOPICS) + rng.choice(["", "专项", "通用", "分级", "现场"]) + rng.choice(kinds)
            if title not in serial_titles:
                break
        serial_titles.add(title)
        return title

    for i in range(1, manuals + 1):
        number = f"QM-SH-{i:02d}"
        title = MANUAL_TITLES[(i - 1) % len(MANUAL_TITLES)] + ("" if i <= len(MANUAL_TITLES) else f"第{i}分册")
        folder = f"docs/{number}-{title}"
        chapters = rng.randint(5, 9)
        parts = [f"{c:02d}-{rng.choice(TOPICS)}.md" for c in range(1, chapters + 1)]
        specs.append(Spec(0, "manual", number, title, "总经理办公室", f"{folder}/index.md", folder, parts))
    for doc_type, count, prefix, kinds, folder in (("procedure", procedures, "QP", PROC_KINDS, "procedures"),
                                                   ("instruction", instructions, "QI", INSTR_KINDS, "procedures"),
                                                   ("form", forms, "QR", FORM_KINDS, "forms")):
        for i in range(1, count + 1):
            number = f"{prefix}-SH-{i:0{WIDTH}d}"
            title = title_of(kinds)
            spec = Spec(0, doc_type, number, title, rng.choice(DEPARTMENTS), f"{folder}/{number}-{title}.md")
            if doc_type == "form":
                spec.orientation = rng.choice(["portrait", "portrait", "landscape"])
            specs.append(spec)
    for index, spec in enumerate(specs):
        spec.index = index
    by_type = {t: [s for s in specs if s.type == t] for t in ("manual", "procedure", "instruction", "form")}
    required = [cid for cid, _, req in CLAUSE_LIST if req]
    for spec in specs:
        pool = {"manual": ["procedure", "procedure", "form"], "procedure": ["procedure", "form", "form", "instruction"],
                "instruction": ["procedure", "form"], "form": ["procedure"]}[spec.type]
        refs: list[str] = []
        for _ in range({"manual": 6, "procedure": 4, "instruction": 3, "form": 1}[spec.type]):
            candidates = by_type[rng.choice(pool)] or by_type["procedure"]
            target = rng.choice(candidates)
            if target.number != spec.number and target.number not in refs:
                refs.append(target.number)
        spec.references = refs
        spec.clauses = sorted(rng.sample([c for c, _, _ in CLAUSE_LIST], rng.randint(1, 3)))
        count = rng.choices([2, 3, 4], weights=[3, 4, 3])[0]
        revisions, letter, mod = ["A/0"], "A", 0
        for _ in range(count - 1):
            if rng.random() < 0.1:
                letter, mod = chr(ord(letter) + 1), 0
            else:
                mod += 1
            revisions.append(f"{letter}/{mod}")
        spec.revisions = revisions
    for k, clause in enumerate(required):  # every required clause is answered by some document
        spec = specs[k % len(specs)]
        if clause not in spec.clauses:
            spec.clauses = sorted(spec.clauses + [clause])
    return specs


# -- text --------------------------------------------------------------------------------------

def _sentence(rng: random.Random) -> str:
    return f"{rng.choice(SUBJECTS)}{rng.choice(VERBS)}{rng.choice(ACTIONS)}，{rng.choice(QUALIFIERS)}。"


def _paragraph(rng: random.Random, sentences: int) -> str:
    return "".join(_sentence(rng) for _ in range(sentences))


def _cite(spec: Spec, titles: dict[str, str], rng: random.Random) -> str:
    if not spec.references:
        return ""
    ref = rng.choice(spec.references)
    return f"具体要求按 {ref}《{titles[ref]}》执行。"


def _list(rng: random.Random) -> str:
    lines = []
    for _ in range(rng.randint(2, 3)):
        lines.append(f"- {rng.choice(STEP_NAMES)}：{rng.choice(ACTIONS)}；")
        for _ in range(rng.randint(0, 2)):
            lines.append(f"    - {rng.choice(SUBJECTS)}{rng.choice(ACTIONS)}；")
    return "\n".join(lines)


def _table(rng: random.Random) -> str:
    rows = ["| 步骤 | 责任人 | 工作内容 | 时限 |", "| --- | --- | --- | --- |"]
    for step in rng.sample(STEP_NAMES, rng.randint(3, 6)):
        rows.append(f"| {step} | {rng.choice(SUBJECTS)} | {rng.choice(ACTIONS)} | {rng.choice(LIMITS)} |")
    return "\n".join(rows)


def _section(spec: Spec, titles: dict[str, str], number: int, version: int, seed: int) -> str:
    rng = random.Random(f"{seed}:{spec.number}:{number}:{version}")
    name = SECTION_TITLES[number - 1]
    out = [f"## {number} {name}", ""]
    if name == "工作程序":
        for sub in range(1, rng.randint(2, 4) + 1):
            out += [f"### {number}.{sub} {rng.choice(TOPICS)}", "",
                    f"{number}.{sub}.1 {_paragraph(rng, rng.randint(2, 4))}{_cite(spec, titles, rng)}", "",
                    f"{number}.{sub}.2 {_paragraph(rng, rng.randint(1, 3))}", ""]
            if sub == 1:
                out += [_list(rng), ""]
            if sub == 2:
                out += [_table(rng), ""]
    elif name == "职责":
        for k in range(1, rng.randint(3, 5) + 1):
            out += [f"{number}.{k} {rng.choice(DEPARTMENTS)}：{_paragraph(rng, 1)}", ""]
    elif name == "相关文件":
        out += [f"- {ref}《{titles[ref]}》" for ref in spec.references if ref[:2] in ("QP", "QI", "QM")] or ["无"]
        out.append("")
    elif name == "记录":
        out += [f"- {ref}《{titles[ref]}》" for ref in spec.references if ref[:2] == "QR"] or ["无"]
        out.append("")
    else:
        out += [_paragraph(rng, rng.randint(1, 3)), ""]
    return "\n".join(out)


def body_of(spec: Spec, titles: dict[str, str], versions: list[int], seed: int) -> str:
    """The Markdown body of one revision; versions says which sections changed in which revision."""
    if spec.type == "form":
        rng = random.Random(f"{seed}:{spec.number}:form:{versions[0]}")
        refs = "、".join(f"{ref}《{titles[ref]}》" for ref in spec.references) or "相关程序文件"
        fields = rng.sample(["客户姓名", "联系电话", "产品型号", "购买日期", "故障现象", "处理结果", "服务网点",
                             "工单编号", "到达时间", "完成时间", "备件名称", "费用"], 8)
        rows = ["| 项目 | 内容 | 项目 | 内容 |", "| --- | --- | --- | --- |"]
        rows += [f"| {a} |  | {b} |  |" for a, b in zip(fields[0::2], fields[1::2])]
        log = ["| 序号 | 日期 | 内容 | 经办人 | 备注 |", "| --- | --- | --- | --- | --- |"] + ["|  |  |  |  |  |"] * 6
        return "\n".join([
            "", f"填写说明：{_paragraph(rng, 2)}依据 {refs}。", "", *rows, "", *log, "",
            "- 填写要求：", "    - 字迹清楚，不得涂改；", "    - 更正处由更正人签名并注明日期。", "",
            "填表人：__________　　审核：__________　　日期：____年__月__日", ""])
    sections = 7 if spec.type == "procedure" else 5
    numbers = [1, 2, 3, 5, 7] if sections == 5 else list(range(1, 8))
    parts = [_section(spec, titles, n, versions[k], seed) for k, n in enumerate(numbers)]
    if spec.type == "manual":
        return "\n" + f"本手册是{spec.title}，由{spec.department}归口管理，各章分别成文。\n\n" + parts[0]
    return "\n" + "\n".join(parts)


def manual_part(spec: Spec, titles: dict[str, str], part: str, chapter: int, version: int, seed: int) -> str:
    rng = random.Random(f"{seed}:{spec.number}:{part}:{version}")
    name = part[3:-3]
    out = [f"## {chapter} {name}", ""]
    for sub in range(1, rng.randint(2, 3) + 1):
        out += [f"### {chapter}.{sub} {rng.choice(TOPICS)}", "",
                _paragraph(rng, rng.randint(2, 4)) + _cite(spec, titles, rng), ""]
    out += [_list(rng), "", _table(rng), ""]
    return "\n".join(out)


# -- metadata ----------------------------------------------------------------------------------

def _q(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _flow(items: list[str]) -> str:
    return "[" + ", ".join(items) + "]"


def front_matter(spec: Spec, revision: str, status: str, prepared: tuple[str, dt.date], rows: list[HistoryRow],
                 effective: dt.date | None) -> str:
    out = ["---", f"number: {spec.number}", f"title: {spec.title}", f"type: {spec.type}",
           f"department: {spec.department}", f"revision: {revision}", f"status: {status}",
           "prepared:", f"  name: {prepared[0]}", f"  date: {prepared[1].isoformat()}", "review_months: 12",
           f"references: {_flow(spec.references)}", f"clauses: {_flow(spec.clauses)}"]
    if spec.type == "form":
        out += ["retention: 3年", f"orientation: {spec.orientation}"]
    out.append("history:")
    for row in rows:
        out += [f"  - revision: {row.revision}", f"    date: {row.date.isoformat()}", f"    section: {_q(row.section)}",
                f"    summary: {_q(row.summary)}", f"    by: {row.by}"]
        if row.approved_by:
            out.append(f"    approved_by: {row.approved_by}")
    if effective:
        out.append(f"effective: {effective.isoformat()}")
    out.append("---")
    return "\n".join(out) + "\n"


def stamp_of(spec: Spec, revision: str, prepared: tuple[str, dt.date], rows: list[HistoryRow], body: str,
             parts: list[tuple[str, str]]) -> str:
    """The approval fingerprint, computed by doccontrol's own model.fingerprint."""
    doc = Document(
        path=spec.path, number=spec.number, title=spec.title, type=spec.type, department=spec.department,
        revision=revision, status="review", prepared=Prepared(prepared[0], prepared[1]), body=body,
        history=tuple(replace(row, approved_by=None) for row in rows),
        review_months=12, references=tuple(spec.references), clauses=tuple(spec.clauses),
        retention="3年" if spec.type == "form" else None, orientation=spec.orientation,
        parts=tuple(Part(path, text) for path, text in parts))
    return fingerprint(doc)


# -- history -----------------------------------------------------------------------------------

@dataclass
class Step:
    """One revision of one document inside a batch."""

    spec: Spec
    revision_index: int


@dataclass
class Batch:
    drafted: dt.datetime
    released: dt.datetime
    steps: list[Step]


def schedule(specs: list[Spec], seed: int) -> list[Batch]:
    rng = random.Random(f"schedule:{seed}")
    per_window: list[list[tuple[int, Step]]] = [[] for _ in WINDOWS]
    for spec in specs:
        first = len(WINDOWS) - len(spec.revisions)
        for k in range(len(spec.revisions)):
            start, end = WINDOWS[first + k]
            offset = rng.randrange(int((end - start).total_seconds()))
            per_window[first + k].append((offset, Step(spec, k)))
    batches = []
    for (start, _), events in zip(WINDOWS, per_window):
        events.sort(key=lambda e: (e[0], e[1].spec.index))
        position = 0
        while position < len(events):
            size = rng.randint(BATCH[0], BATCH[1])
            group = events[position:position + size]
            position += size
            drafted = start + dt.timedelta(seconds=group[0][0])
            released = (drafted + dt.timedelta(days=rng.randint(1, 6))).replace(hour=rng.randint(9, 17),
                                                                                 minute=rng.randint(0, 59), second=0)
            batches.append(Batch(drafted, released, [step for _, step in group]))
    return batches


class Stream:
    """A git fast-import stream written to the process as it is produced."""

    def __init__(self, handle):
        self.handle = handle
        self.mark = 0

    def write(self, text: str | bytes):
        self.handle.write(text.encode("utf-8") if isinstance(text, str) else text)

    def data(self, payload: bytes):
        self.write(f"data {len(payload)}\n")
        self.write(payload)
        self.write("\n")

    def commit(self, who: str, when: dt.datetime, message: str, files: list[tuple[str, bytes]]) -> int:
        self.mark += 1
        stamp = f"{int(when.timestamp())} +0800"
        email = "dc@example.com"
        self.write(f"commit refs/heads/main\nmark :{self.mark}\nauthor {who} <{email}> {stamp}\n"
                   f"committer {who} <{email}> {stamp}\n")
        self.data(message.encode("utf-8"))
        for path, payload in files:
            self.write(f"M 100644 inline {path}\n")
            self.data(payload)
        self.write("\n")
        return self.mark



@dataclass
class State:
    rows: list[HistoryRow] = field(default_factory=list)
    versions: list[int] = field(default_factory=list)
    part_versions: list[int] = field(default_factory=list)
    ledger: str = ""  # the document's ledger file as it grows
    released: tuple[str, str] | None = None  # the last released revision and its fingerprint


class Signatures:
    """Signed statements made with the corpus's derived keys, exactly as doccontrol writes them (unsigned: the
    same statements without signatures, as doccontrol writes them under `policy: signatures: unsigned`)."""

    def __init__(self, out: Path, seed: int, unsigned: bool = False):
        self.unsigned = unsigned
        self.signers = {}
        folder = out / KEY_FOLDER
        folder.mkdir(parents=True)
        for name in PEOPLE:
            key = private_key(name, seed)
            path = folder / name
            path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
                                               serialization.NoEncryption()))
            path.chmod(0o600)
            self.signers[name] = load_signer(str(path), demo_folder=folder)

    def line(self, data: dict) -> str:
        statement = parse_statement(data)
        if self.unsigned:
            return to_line(statement, None) + "\n"
        return to_line(statement, self.signers[data["name"]].sign(statement_bytes(statement))) + "\n"


def _at(moment: dt.datetime) -> str:
    return moment.astimezone(TZ).replace(microsecond=0).isoformat()


def anchor_line(signatures: Signatures, config: str, when: dt.datetime) -> str:
    model = ConfigModel.model_validate(read_yaml(config).data)
    catalogue = CatalogueModel.model_validate(read_yaml(CLAUSES).data)
    content = configuration_content(model, catalogue, site_content(Path("."), SiteOptions()))
    roster_of(content)
    return signatures.line({"kind": "configuration", "version": 1, "fingerprint": content_fingerprint(content),
                            "content": content, "name": "陈国华", "at": _at(when), "config": 1})


def _write_tags(out: Path, marks_file: Path, tag_marks: list[tuple[str, int]]):
    """Release tags (lightweight) straight into packed-refs: one file, instead of thousands of loose refs."""
    shas = {}
    for line in marks_file.read_text().splitlines():
        mark, sha = line.split()
        shas[int(mark[1:])] = sha
    refs = sorted((f"refs/tags/{name}".encode(), shas[mark].encode()) for name, mark in tag_marks)
    lines = [b"# pack-refs with: peeled fully-peeled sorted \n"] + [sha + b" " + ref + b"\n" for ref, sha in refs]
    (out / ".git" / "packed-refs").write_bytes(b"".join(lines))


def make_corpus(n: int, out: Path, seed: int = 1, tags: bool = True, quiet: bool = False,
                unsigned: bool = False) -> dict:
    """Create the repository at out (which must not exist or be empty); return a summary. unsigned: the same
    documents and record under `policy: signatures: unsigned` (no statement signed), a floor for signatures."""
    started = time.perf_counter()
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        raise SystemExit(f"{out} exists and is not empty")
    out.mkdir(parents=True, exist_ok=True)
    specs = plan(n, seed)
    titles = {spec.number: spec.title for spec in specs}
    batches = schedule(specs, seed)
    rng = random.Random(f"people:{seed}")
    states = {spec.number: State(versions=[0] * 7, part_versions=[0] * len(spec.parts)) for spec in specs}

    git = ["git", "-c", "core.quotepath=false", "-c", "init.defaultBranch=main"]
    subprocess.run([*git, "init", "-q", "-b", "main", str(out)], check=True)
    for key, value in (("user.name", "孙小雨"), ("user.email", "dc@example.com"), ("commit.gpgsign", "false"),
                       ("tag.gpgSign", "false"), ("core.quotepath", "false")):
        subprocess.run(["git", "-C", str(out), "config", key, value], check=True)
    marks_file = out / ".git" / "bench-marks"
    proc = subprocess.Popen(["git", "-C", str(out), "fast-import", "--quiet", "--done",
                             f"--export-marks={marks_file}"], stdin=subprocess.PIPE, bufsize=1 << 20)
    stream = Stream(proc.stdin)
    setup_time = WINDOWS[0][0] - dt.timedelta(days=2)
    signatures = Signatures(out, seed, unsigned)
    config = config_text(seed, unsigned)
    stream.commit("孙小雨", setup_time, "set up the document repository\n",
                  [("doccontrol.yml", config.encode()), ("clauses.yml", CLAUSES.encode()),
                   (".gitignore", GITIGNORE.encode()),
                   ("signatures/configuration.jsonl", anchor_line(signatures, config, setup_time).encode())])

    # Events in time order: each batch drafts, then releases; batches interleave.
    events = [(b.drafted, 0, i) for i, b in enumerate(batches)] + [(b.released, 1, i) for i, b in enumerate(batches)]
    events.sort()
    pending: dict[int, list] = {}
    tag_marks: list[tuple[str, int]] = []
    revisions = 0
    for when, kind, index in events:
        batch = batches[index]
        if kind == 0:
            drafts, files = [], []
            for step in batch.steps:
                spec, k = step.spec, step.revision_index
                state = states[spec.number]
                revision = spec.revisions[k]
                preparer = rng.choice(PREPARERS)
                changed_parts: list[int] = []
                if k == 0:
                    section, summary = "全文", "首次发布"
                else:
                    major = spec.revisions[k][0] != spec.revisions[k - 1][0]
                    if major:
                        state.versions = [v + 1 for v in state.versions]
                        changed_parts = list(range(len(spec.parts)))
                        section, summary = "全文", "换版：全面修订"
                    else:
                        touched = [0] if spec.type == "form" else rng.sample(range(1, 5), rng.randint(1, 2))
                        for t in touched:
                            state.versions[t] += 1
                        if spec.parts:
                            changed_parts = [rng.randrange(len(spec.parts))]
                        section = "、".join(str(t + 1) for t in sorted(touched))
                        summary = rng.choice(SUMMARIES)
                    for p in changed_parts:
                        state.part_versions[p] += 1
                prepared = (preparer, batch.drafted.date())
                state.rows.append(HistoryRow(revision, batch.drafted.date(), section, summary, preparer))
                body = body_of(spec, titles, state.versions, seed)
                parts = [(f"{spec.folder}/{name}", manual_part(spec, titles, name, c + 1, state.part_versions[c], seed))
                         for c, name in enumerate(spec.parts)]
                draft = front_matter(spec, revision, "review", prepared, state.rows, None) + body
                files.append((spec.path, draft.encode()))
                stamp = stamp_of(spec, revision, prepared, state.rows, body, parts)
                base = {"revision": state.released[0], "fingerprint": state.released[1]} if state.released else None
                state.ledger += signatures.line(_about(spec, revision, stamp, preparer, batch.drafted) |
                                                {"kind": "submit", "base": base})
                files.append((f"signatures/{spec.number}.jsonl", state.ledger.encode()))
                for c in (range(len(parts)) if k == 0 else changed_parts):
                    files.append((parts[c][0], parts[c][1].encode()))
                drafts.append((spec, revision, prepared, body, parts))
            pending[index] = drafts
            who = drafts[0][2][0]
            verb = "new" if all(step.revision_index == 0 for step in batch.steps) else "revise"
            stream.commit(who, when, f"{verb}: " + ", ".join(f"{s.number} {r}" for s, r, *_ in drafts) + " (draft)\n",
                          files)
        else:
            files, released = [], []
            effective = batch.released.date()
            gap = batch.released - batch.drafted
            for spec, revision, prepared, body, parts in pending.pop(index):
                state = states[spec.number]
                stamp = stamp_of(spec, revision, prepared, state.rows, body, parts)
                if spec.type == "manual":
                    reviewer, approver = "周立新", "陈国华"
                else:
                    reviewer = rng.choice(REVIEWERS)
                    approver = rng.choice([a for a in APPROVERS if a != reviewer])
                base = {"revision": state.released[0], "fingerprint": state.released[1]} if state.released else None
                for role, name, at in (("review", reviewer, batch.drafted + gap / 3),
                                       ("approve", approver, batch.drafted + gap * 2 / 3)):
                    state.ledger += signatures.line(_about(spec, revision, stamp, name, at) | {
                        "kind": "approval", "role": role, "meaning": ROLE_MEANINGS[role], "base": base})
                state.ledger += signatures.line(_about(spec, revision, stamp, "孙小雨", batch.released) | {
                    "kind": "release", "effective": effective.isoformat()})
                state.released = (revision, stamp)
                state.rows[-1] = replace(state.rows[-1], approved_by=approver)
                text = front_matter(spec, revision, "effective", prepared, state.rows, effective) + body
                files.append((spec.path, text.encode()))
                files.append((f"signatures/{spec.number}.jsonl", state.ledger.encode()))
                released.append((spec, revision))
                revisions += 1
            message = ("release: " + ", ".join(f"{s.number} {r}" for s, r in released)
                       + f" effective {effective.isoformat()}\n")
            mark = stream.commit("孙小雨", when, message, files)
            tag_marks += [(f"{spec.number}/{revision.replace('/', '')}", mark) for spec, revision in released]
    stream.write("done\n")
    proc.stdin.close()
    if proc.wait() != 0:
        raise SystemExit("git fast-import failed")
    if tags:
        _write_tags(out, marks_file, tag_marks)
    marks_file.unlink()
    subprocess.run(["git", "-C", str(out), "reset", "-q", "--hard", "main"], check=True)
    summary = {"documents": len(specs), "revisions": revisions, "commits": stream.mark,
               "files": sum(1 + len(s.parts) for s in specs), "seconds": round(time.perf_counter() - started, 2)}
    if not quiet:
        print(f"made {summary['documents']} documents ({summary['files']} files), {summary['revisions']} released "
              f"revisions in {summary['commits']} commits at {out} in {summary['seconds']} s")
    return summary


def _about(spec: Spec, revision: str, stamp: str, name: str, when: dt.datetime) -> dict:
    return {"number": spec.number, "title": spec.title, "revision": revision, "path": spec.path, "fingerprint": stamp,
            "type": spec.type,
            "department": spec.department, "name": name, "at": _at(when), "config": 1}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("n", type=int, help="number of documents")
    parser.add_argument("dir", type=Path, help="where to create the repository (must not exist or be empty)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-tags", action="store_true", help="do not create release tags")
    parser.add_argument("--unsigned", action="store_true",
                        help="the same corpus under `policy: signatures: unsigned`: no statement is signed")
    args = parser.parse_args(argv)
    if args.n < 1:
        parser.error("N must be at least 1")
    make_corpus(args.n, args.dir, seed=args.seed, tags=not args.no_tags, unsigned=args.unsigned)
    return 0


if __name__ == "__main__":
    sys.exit(main())
