"""Shared fixtures: a click runner, and small real document repositories in tmp dirs."""

from __future__ import annotations

import contextlib
import functools
import http.server
import os
import shutil
import subprocess
import tempfile
import textwrap
import threading
from collections.abc import Iterator
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

PEOPLE = ("陈国华", "周立新", "林慧", "孙小雨", "赵明")


def make_keys(names=PEOPLE) -> dict[str, Path]:
    """A real SSH key pair per person, made by ssh-keygen once per test session."""
    folder = Path(tempfile.mkdtemp(prefix="doccontrol-test-keys-"))
    keys = {}
    for index, name in enumerate(names):
        path = folder / f"key{index}"
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(path)], check=True)
        keys[name] = path
    return keys


KEYS = make_keys()


def public_key(name: str) -> str:
    return " ".join(Path(str(KEYS[name]) + ".pub").read_text(encoding="utf-8").split()[:2])


CONFIG_HEAD = """\
company: 测试电器有限公司
system: 售后服务管理体系
clause_catalogue: clauses.yml
types:
  manual: {label: 手册, prefix: QM, department: SH, width: 2, folder: docs}
  procedure: {label: 程序文件, prefix: QP, department: SH, width: 3, folder: procedures}
  instruction: {label: 作业指导书, prefix: QI, department: SH, width: 3, folder: procedures}
  form: {label: 记录表单, prefix: QR, department: SH, width: 3, folder: forms}
  external: {label: 外来文件, prefix: QE, department: SH, width: 3, folder: docs/external}
"""
RIGHTS = {
    "陈国华": ("总经理", "总经理办公室", "{review: [manual, procedure, form, external], "
                                     "approve: [manual, procedure, form, external]}", True),
    "周立新": ("管理者代表", "质量部", "{review: [manual, procedure, form, external], "
                                  "approve: [procedure, form, external]}", False),
    "林慧": ("质量部经理", "质量部", "{review: [procedure, form, external]}", False),
    "孙小雨": ("文控员", "质量部", "{release: [manual, procedure, instruction, form, external]}", False),
    "赵明": ("售后服务部经理", "售后服务部", "{review: [procedure@售后服务部, form@售后服务部]}", False),
}


def person(name: str, keys: list[str] | None = None) -> str:
    position, department, rights, configure = RIGHTS[name]
    listed = keys if keys is not None else [public_key(name)]
    lines = [f"  {name}:", f"    position: {position}", f"    department: {department}",
             f"    keys: [{', '.join(repr(k) for k in listed)}]", f"    rights: {rights}"]
    if configure:
        lines.append("    configure: true")
    return "\n".join(lines) + "\n"


def config_text(people=PEOPLE, policy: str = "") -> str:
    return CONFIG_HEAD + "people:\n" + "".join(person(name) for name in people) + policy


CONFIG = config_text()

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


def init_repo(root: Path, with_manual: bool = True, config: str | None = None, submit: bool = True) -> Path:
    """A git repository with an approved configuration (陈国华 signed the trust anchor) and one procedure,
    one form and (optionally) a manual, submitted for review by their preparers."""
    root.mkdir(parents=True, exist_ok=True)
    write(root, "doccontrol.yml", config or CONFIG)
    write(root, "clauses.yml", CLAUSES)
    write(root, ".gitignore", ".doccontrol-cache/\nsite/\npreview/\ndist/\n")
    write(root, "procedures/QP-SH-001-客户投诉处理程序.md", PROCEDURE.replace("status: review", "status: draft"))
    write(root, "forms/QR-SH-001-顾客问题处理表.md", FORM.replace("status: review", "status: draft"))
    if with_manual:
        write(root, "docs/QM-SH-01-售后服务手册/index.md", MANUAL_INDEX.replace("status: review", "status: draft"))
        write(root, "docs/QM-SH-01-售后服务手册/01-颁布令.md", MANUAL_PART)
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.name", "孙小雨")
    git(root, "config", "user.email", "sun@example.com")
    git(root, "config", "commit.gpgsign", "false")
    git(root, "config", "tag.gpgSign", "false")
    git(root, "config", "user.signingkey", str(KEYS["孙小雨"]))  # the document controller works here
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "initial documents")
    runner = CliRunner()
    invoke(runner, root, "config", "approve", "--key", str(KEYS["陈国华"]))
    if not submit:
        return root
    invoke(runner, root, "submit", "QP-SH-001", "QR-SH-001")
    if with_manual:
        invoke(runner, root, "submit", "QM-SH-01", "--as", "林慧")
    shutil.rmtree(root / ".doccontrol-cache", ignore_errors=True)  # each test starts without a cache
    return root


def release_all(runner: CliRunner, root: Path, numbers=("QP-SH-001", "QR-SH-001"), manual=True):
    """Approve and release the given documents through the real CLI, each person with their own key."""
    invoke(runner, root, "approve", *numbers, "--as", "林慧" if not manual else "周立新", "--role", "审核")
    invoke(runner, root, "approve", *numbers, "--as", "陈国华", "--role", "批准")
    invoke(runner, root, "release", *numbers)


SIGNING_COMMANDS = {"submit", "approve", "return", "release", "obsolete", "config", "issue", "recall", "revise"}


def invoke(runner: CliRunner, root: Path, *args: str, expect: int = 0):
    """Run the CLI; a signing command given `--as NAME` and no `--key` signs with NAME's own key."""
    args_list = list(args)
    if args_list and args_list[0] in SIGNING_COMMANDS and "--as" in args_list and "--key" not in args_list:
        name = args_list[args_list.index("--as") + 1]
        if name in KEYS:
            args_list += ["--key", str(KEYS[name])]
    result = runner.invoke(cli, ["--repo", str(root), *args_list], catch_exceptions=False)
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
    shutil.rmtree(root / ".doccontrol-cache", ignore_errors=True)
    return root


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


# the set as released on 2026-11-28 (the manual from 11-29), before the follow-ups of 12-15
SHIPPED_AS_OF = "2026-11-29"


@pytest.fixture(scope="session")
def shipped_outputs(tmp_path_factory) -> dict[str, Path]:
    """The repository's own document set, built once per test session: its site and its audit pack."""
    out = tmp_path_factory.mktemp("shipped")
    runner = CliRunner()
    invoke(runner, ROOT, "build", "--as-of", SHIPPED_AS_OF, "--out", str(out / "site"))
    invoke(runner, ROOT, "pack", "--as-of", SHIPPED_AS_OF, "--out", str(out / "pack.zip"))
    return {"site": out / "site", "pack": out / "pack.zip"}


def copy_repo(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


@contextlib.contextmanager
def served(folder: Path) -> Iterator[str]:
    """The folder on a local HTTP server while in the block, as its address (http://127.0.0.1:PORT)."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]


@pytest.fixture(scope="module")
def chromium():
    """A headless Chromium (the Debian package) for the tests of one module."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
