"""Shared fixtures: a click runner, and small real document repositories in tmp dirs."""

from __future__ import annotations

import os
import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from doccontrol.cli import cli

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"

PINNED_NOW = "2026-11-20T10:00:00+08:00"
os.environ.setdefault("DOCCONTROL_NOW", PINNED_NOW)
os.environ.setdefault("GIT_AUTHOR_DATE", PINNED_NOW)
os.environ.setdefault("GIT_COMMITTER_DATE", PINNED_NOW)

CONFIG = """\
company: 测试电器有限公司
system: 售后服务管理体系
clause_catalogue: clauses.yml
types:
  manual: {label: 手册, prefix: QM, department: SH, width: 2, folder: docs}
  procedure: {label: 程序文件, prefix: QP, department: SH, width: 3, folder: procedures}
  instruction: {label: 作业指导书, prefix: QI, department: SH, width: 3, folder: procedures}
  form: {label: 记录表单, prefix: QR, department: SH, width: 3, folder: forms}
  external: {label: 外来文件, prefix: QE, department: SH, width: 3, folder: docs/external}
people:
  陈国华:
    position: 总经理
    sign: {审核: [manual, procedure, form, external], 批准: [manual, procedure, form, external]}
  周立新:
    position: 管理者代表
    sign: {审核: [manual, procedure, form, external], 批准: [procedure, form, external]}
  林慧:
    position: 质量部经理
    sign: {审核: [procedure, form, external]}
  孙小雨:
    position: 文控员
"""

CLAUSES = """\
standards:
  GB27922: GB/T 27922-2011 商品售后服务评价体系
  ISO9001: ISO 9001:2015
clauses:
  GB27922-6.3: {title: 投诉处理, required: true}
  ISO9001-7.5: {title: 成文信息}
"""


def front(number, title, doc_type, extra="", status="review", revision="A/0", department="质量部",
          preparer="孙小雨", references="[]", clauses="[]"):
    return textwrap.dedent(f"""\
        ---
        number: {number}
        title: {title}
        type: {doc_type}
        department: {department}
        revision: {revision}
        status: {status}
        prepared:
          name: {preparer}
          date: 2026-11-16
        review_months: 12
        references: {references}
        clauses: {clauses}
        """) + extra + textwrap.dedent(f"""\
        history:
          - revision: {revision}
            date: 2026-11-16
            section: 全文
            summary: 首次发布
            by: {preparer}
        ---
        """)


PROCEDURE = front("QP-SH-001", "客户投诉处理程序", "procedure", references="[QR-SH-001]",
                  clauses="[GB27922-6.3, ISO9001-7.5]") + textwrap.dedent("""\

    ## 1 目的

    规范客户投诉的受理与处理，确保投诉在规定时限内关闭。

    ## 2 范围

    适用于本公司全部产品的售后投诉。

    ## 3 职责

    3.1 客服中心：负责投诉的受理、登记和回访。

    ## 4 工作程序

    4.1 客服专员接到投诉后 24 小时内响应，并填写 QR-SH-001。

    - 电话投诉
        - 当场登记
    - 书面投诉

    | 步骤 | 时限 |
    | --- | --- |
    | 受理 | 24 小时 |
    | 结案 | 5 个工作日 |

    ## 5 相关文件

    无

    ## 6 记录

    QR-SH-001《顾客问题处理表》
    """)

FORM = front("QR-SH-001", "顾客问题处理表", "form", extra="retention: 3年\norientation: portrait\n",
             department="客服中心", references="[QP-SH-001]") + textwrap.dedent("""\

    填写说明：客服专员受理投诉时填写，依据 QP-SH-001。

    | 项目 | 内容 | 项目 | 内容 |
    | --- | --- | --- | --- |
    | 客户姓名 |  | 联系电话 |  |
    | 处理结果 | □已解决 □未解决 |  |  |

    填表人：__________ 日期：____年__月__日
    """)

MANUAL_INDEX = front("QM-SH-01", "售后服务手册", "manual", department="总经理办公室", preparer="林慧",
                     references="[QP-SH-001]", clauses="[GB27922-6.3]") + "\n本手册说明公司的售后服务管理体系。\n"
MANUAL_PART = "## 1 颁布令\n\n本手册自发布之日起实施，客户投诉按 QP-SH-001 处理。\n"


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True).stdout


def write(root: Path, rel: str, text: str) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def init_repo(root: Path, with_manual: bool = True) -> Path:
    """A git repository with a configuration, one procedure, one form and (optionally) a manual, in review."""
    root.mkdir(parents=True, exist_ok=True)
    write(root, "doccontrol.yml", CONFIG)
    write(root, "clauses.yml", CLAUSES)
    write(root, ".gitignore", ".doccontrol-cache/\nsite/\npreview/\ndist/\n")
    write(root, "procedures/QP-SH-001-客户投诉处理程序.md", PROCEDURE)
    write(root, "forms/QR-SH-001-顾客问题处理表.md", FORM)
    if with_manual:
        write(root, "docs/QM-SH-01-售后服务手册/index.md", MANUAL_INDEX)
        write(root, "docs/QM-SH-01-售后服务手册/01-颁布令.md", MANUAL_PART)
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.name", "孙小雨")
    git(root, "config", "user.email", "sun@example.com")
    git(root, "config", "commit.gpgsign", "false")
    git(root, "config", "tag.gpgSign", "false")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "initial documents")
    return root


def release_all(runner: CliRunner, root: Path, numbers=("QP-SH-001", "QR-SH-001"), manual=True):
    """Approve and release the given documents through the real CLI."""
    invoke(runner, root, "approve", *numbers, "--as", "林慧" if not manual else "周立新", "--role", "审核")
    invoke(runner, root, "approve", *numbers, "--as", "陈国华", "--role", "批准")
    invoke(runner, root, "release", *numbers)


def invoke(runner: CliRunner, root: Path, *args: str, expect: int = 0):
    result = runner.invoke(cli, ["--repo", str(root), *args], catch_exceptions=False)
    assert result.exit_code == expect, result.output
    return result


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def repo(tmp_path) -> Path:
    """A git repository whose documents are in review (not yet released)."""
    return init_repo(tmp_path / "repo")


@pytest.fixture
def released_repo(tmp_path, runner) -> Path:
    """A git repository where the procedure, the form and the manual are released (effective)."""
    root = init_repo(tmp_path / "released")
    release_all(runner, root, ("QM-SH-01", "QP-SH-001", "QR-SH-001"))
    return root


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


def copy_repo(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst
