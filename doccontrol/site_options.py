"""The few options a repository may set for its controlled website (`mkdocs.yml`).

doccontrol builds the whole MkDocs configuration itself (theme, plugins, Markdown
extensions, search, templates); nothing from the repository is run or loaded as code.
`mkdocs.yml` may hold only the inert options of `SiteOptions`, read with the project's
strict YAML reader (no tags such as `!!python/...` or `!ENV`, no anchors or aliases) and
validated like `doccontrol.yml`, with the file and line of every problem.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .config import ConfigError
from .model import Finding
from .pictures import ALLOWED, SIGNATURES, content_matches
from .schema import describe_errors
from .yamlread import YamlProblem, read_yaml

if TYPE_CHECKING:
    from .workspace import Workspace

OPTIONS_FILE = "mkdocs.yml"
MAX_BYTES = 64 * 1024
MAX_LOGO_BYTES = 512 * 1024
# What a logo may be: a picture as documents show them (pictures.py). ".svg" still parses, so that a
# configuration approved before SVG was refused stays valid in the record, but read_logo refuses it.
LOGO_SUFFIXES = (*SIGNATURES, ".svg")

# MkDocs settings a repository used to set here; doccontrol sets them itself now.
ENGINE_KEYS = {
    "theme", "plugins", "markdown_extensions", "hooks", "extra_javascript", "extra_css", "extra_templates",
    "custom_dir", "extra", "nav", "docs_dir", "site_dir", "INHERIT", "watch", "validation", "strict",
    "use_directory_urls", "dev_addr", "repo_url", "repo_name", "edit_uri", "edit_uri_template",
    "remote_branch", "remote_name", "exclude_docs", "draft_docs", "not_in_nav", "site_description",
    "site_author",
}
RENAMED = {"site_name": "title", "copyright": "footer"}

PlainText = Annotated[str, Field(min_length=1, max_length=80)]
WebAddress = Annotated[str, Field(min_length=1, max_length=300)]
CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


def _plain(value: str) -> str:
    if CONTROL.search(value):
        raise ValueError("contains a line break or an invisible control character; write it on one line")
    return value


def _web_address(value: str) -> str:
    if not re.fullmatch(r"https?://[A-Za-z0-9.-]+(?::[0-9]{1,5})?(?:/[^\s\"'<>\\`]*)?", value):
        raise ValueError("is not a web address; write it as https://host/path")
    return value


class _Options(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class Colours(_Options):
    """The site's two colours, as #RRGGBB."""

    primary: str = "#1f3b5c"
    accent: str = "#c0392b"

    @field_validator("primary", "accent")
    @classmethod
    def _colour(cls, value: str) -> str:
        if not re.fullmatch(r"#[0-9A-Fa-f]{6}", value):
            raise ValueError("is not a colour; write it as # and six hexadecimal digits, e.g. \"#1f3b5c\"")
        return value.lower()


class Link(_Options):
    """An extra link shown in the site's footer."""

    title: PlainText
    url: WebAddress

    _check_title = field_validator("title")(_plain)
    _check_url = field_validator("url")(_web_address)


class SiteOptions(_Options):
    """Everything the repository may choose about its site; every value is shown as text."""

    title: PlainText | None = None
    site_url: WebAddress | None = None
    footer: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    colors: Colours = Colours()
    logo: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    links: Annotated[list[Link], Field(max_length=12)] = []

    _check_text = field_validator("title", "footer")(_plain)
    _check_url = field_validator("site_url")(_web_address)

    @field_validator("logo")
    @classmethod
    def _logo_path(cls, value: str) -> str:
        path = PurePosixPath(value)
        if value.startswith(("/", "\\")) or "\\" in value or ".." in path.parts or re.match(r"^[A-Za-z]:", value):
            raise ValueError("must be a path inside the repository, without .. or a leading /")
        if path.suffix.lower() not in LOGO_SUFFIXES:
            raise ValueError(f"must be a picture file ({ALLOWED})")
        return value


def parse_site_options(text: str, shown: str = OPTIONS_FILE) -> SiteOptions:
    """The options in text (the content of `shown`); raise ConfigError with every problem and its line."""
    return _parse(text, shown)[0]


def _parse(text: str, shown: str) -> tuple[SiteOptions, dict[str, int]]:
    try:
        parsed = read_yaml(text)
    except YamlProblem as problem:
        raise ConfigError([Finding(shown, problem.line, "site-options-yaml", problem.message, problem.fix)]) from None
    data = parsed.data if parsed.data is not None else {}
    if not isinstance(data, dict):
        raise ConfigError([Finding(shown, 1, "site-options-yaml", "expected a mapping of options",
                                   "see README, Site options")])
    refused = [_engine_key_finding(shown, key, parsed.lines.get(str(key), 1)) for key in data
               if key in ENGINE_KEYS or key in RENAMED]
    if refused:
        raise ConfigError(refused)
    try:
        return SiteOptions.model_validate(data), parsed.lines
    except ValidationError as error:
        raise ConfigError([Finding(shown, line, "site-options", message, _site_fix(fix))
                           for line, message, fix in describe_errors(error, parsed.lines)]) from None


def _site_fix(fix: str) -> str:
    """describe_errors points at the README's configuration section; these options have their own."""
    return re.sub(r"\(see README(?:, Configuration)?\)", "(see README, Site options)", fix)


def _engine_key_finding(shown: str, key: str, line: int) -> Finding:
    if key in RENAMED:
        return Finding(shown, line, "site-options", f"{key}: not a site option here",
                       f"write it as `{RENAMED[key]}:` (see README, Site options)")
    return Finding(shown, line, "site-options",
                   f"{key}: doccontrol builds the site's MkDocs configuration itself; the repository cannot set "
                   "themes, plugins, Markdown extensions, scripts, styles or templates",
                   f"remove `{key}`; the options you can set are {', '.join(SiteOptions.model_fields)} "
                   "(see README, Site options)")


LOGO_HASH = "logo_sha256"


def site_content(root: Path, options: SiteOptions, logo: bytes | None = None) -> dict:
    """The options as the configuration statement holds them, with the sha256 of the logo they name (read
    under root unless its bytes are given)."""
    import hashlib

    content = options.model_dump(mode="json", exclude_none=True)
    if options.logo:
        data = logo if logo is not None else read_logo(root, options)
        content[LOGO_HASH] = hashlib.sha256(data).hexdigest()
    return content


def site_options_of(content: dict) -> tuple[SiteOptions, str | None]:
    """The options and the logo's approved sha256 from a configuration statement's content."""
    values = {key: value for key, value in content.items() if key != LOGO_HASH}
    return SiteOptions.model_validate(values), content.get(LOGO_HASH)


def site_option_findings(ws: Workspace) -> list[Finding]:
    """What is wrong with the workspace's site options (for `check`); empty when they are valid."""
    try:
        ws.site_options(working=True)
    except ConfigError as error:
        return error.findings
    return []


def read_site_options(root: Path) -> SiteOptions:
    """The site options of the repository at root; the defaults when it has no options file."""
    path = Path(root) / OPTIONS_FILE
    if not os.path.lexists(path):
        return SiteOptions()
    raw = _regular_file_bytes(path, OPTIONS_FILE, MAX_BYTES)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ConfigError([Finding(OPTIONS_FILE, raw[: error.start].count(b"\n") + 1, "site-options-encoding",
                                   "file is not valid UTF-8", "save it as UTF-8")]) from None
    if text.startswith("\ufeff"):
        raise ConfigError([Finding(OPTIONS_FILE, 1, "site-options-encoding", "the file starts with a byte-order mark",
                                   "save it as UTF-8 without BOM")])
    options, lines = _parse(text.replace("\r\n", "\n"), OPTIONS_FILE)
    if options.logo:
        read_logo(root, options, lines.get("logo", 1))
    return options


def read_logo(root: Path, options: SiteOptions, line: int = 1) -> bytes:
    """The bytes of the configured logo: a plain image file inside the repository."""
    assert options.logo
    path = Path(root) / options.logo
    parent = Path(root)
    for part in PurePosixPath(options.logo).parts[:-1]:
        parent = parent / part
        if parent.is_symlink():
            raise ConfigError([Finding(OPTIONS_FILE, line, "site-options-logo",
                                       f"logo: {options.logo} lies behind a symbolic link",
                                       "put the image itself into the repository")])
    if not os.path.lexists(path):
        raise ConfigError([Finding(OPTIONS_FILE, line, "site-options-logo", f"logo: {options.logo} does not exist",
                                   "add the image to the repository or correct the path")])
    data = _regular_file_bytes(path, OPTIONS_FILE, MAX_LOGO_BYTES, line, what=f"logo {options.logo}")
    problem = logo_problem(options.logo, data)
    if problem:
        raise ConfigError([Finding(OPTIONS_FILE, line, "site-options-logo", *problem)])
    return data


def logo_problem(name: str, data: bytes) -> tuple[str, str] | None:
    """What is wrong with a logo's bytes, and how to fix it (the types and content sniffing of pictures)."""
    suffix = PurePosixPath(name).suffix.lower()
    if suffix == ".svg":
        return (f"logo {name} is an SVG, which can carry scripts that would run in the site",
                f"convert it to PNG, JPEG or WebP and name that file in logo: (allowed: {ALLOWED})")
    if not content_matches(data[:12], suffix):
        return (f"logo {name} is not a {suffix[1:].upper()} file (its content says otherwise)",
                f"save the picture in the format its name says ({suffix})")
    return None


def _regular_file_bytes(path: Path, shown: str, limit: int, line: int = 1, what: str = "") -> bytes:
    """The bytes of a plain file: never a link or a pipe that would block, never more than limit bytes."""
    what = what or shown
    mode = os.lstat(path).st_mode
    if stat.S_ISLNK(mode):
        raise ConfigError([Finding(shown, line, "site-options-file", f"{what} is a symbolic link",
                                   "replace the link with the file itself")])
    if not stat.S_ISREG(mode):
        raise ConfigError([Finding(shown, line, "site-options-file", f"{what} is not a regular file",
                                   "replace it with a plain file")])
    if os.lstat(path).st_size > limit:
        raise ConfigError([Finding(shown, line, "site-options-file", f"{what} is larger than {limit // 1024} KiB",
                                   "use a smaller file")])
    try:
        return path.read_bytes()
    except OSError as error:
        raise ConfigError([Finding(shown, line, "site-options-file", f"{what} cannot be read ({error.strerror})",
                                   "give the user running doccontrol read access to it")]) from None
