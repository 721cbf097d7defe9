"""Errors the library raises for the user; the CLI turns them into messages and exit codes."""

from __future__ import annotations

from .model import Finding


class DoccontrolError(Exception):
    """A problem the user can fix; never shown as a traceback."""

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None, fix: str = "",
                 findings: list[Finding] | None = None):
        super().__init__(message)
        self.message = message
        self.path = path
        self.line = line
        self.fix = fix
        self.findings = findings or []

    def __str__(self) -> str:
        where = f"{self.path}:{self.line or 1}: " if self.path else ""
        text = f"{where}{self.message}"
        if self.fix:
            text += f"\n    fix: {self.fix}"
        for finding in self.findings:
            text += "\n" + str(finding)
        return text
