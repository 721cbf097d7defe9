"""Writing an import plan: every file written atomically and committed together, under the repository
lock; refused over uncommitted changes in the folders it writes to; put back if anything fails."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from ..errors import DoccontrolError
from ..fileio import atomic_write_bytes, atomic_write_text
from ..pictures import IMAGE_FOLDER
from ..repo import RepoError
from ..workspace import Workspace
from .plan import Plan


def write_plan(ws: Workspace, plan: Plan) -> str:
    """Write and commit what the plan says; the commit's id."""
    files = _files(plan)
    with ws.repo() as repo:
        try:
            with repo.lock():
                _numbers_still_free(ws, plan)
                _nothing_in_the_way(ws.root, repo.dirty_paths(), files, _folders(ws, plan))
                return _write_and_commit(ws.root, repo, files, _message(plan))
        except RepoError as error:
            raise DoccontrolError(str(error)) from None


def _files(plan: Plan) -> dict[str, str | bytes]:
    files: dict[str, str | bytes] = {}
    for item in plan.documents:
        files[item.path] = item.text
        for image in item.images:
            files[image.target] = image.content()
    return files


def _numbers_still_free(ws: Workspace, plan: Plan) -> None:
    ws.forget()
    for doc_type, number in plan.first_serials.items():
        if ws.next_number(doc_type) != number:
            raise DoccontrolError(f"{number} has been taken since the plan was made",
                                  fix="run the import again: it numbers the documents afresh")


def _folders(ws: Workspace, plan: Plan) -> set[str]:
    """The folders import writes to: each imported type's folder, and images/ when there are pictures."""
    folders = {ws.config.folder_of(item.doc_type) for item in plan.documents}
    if any(item.images for item in plan.documents):
        folders.add(IMAGE_FOLDER)
    return folders


def _nothing_in_the_way(root: Path, dirty: set[str], files: dict[str, str | bytes], folders: set[str]) -> None:
    existing = sorted(path for path in files if os.path.lexists(root / path))
    if existing:
        raise DoccontrolError("import would replace " + ", ".join(existing),
                              fix="nothing was written; move those files away, or run the import again")
    in_the_way = sorted(path for path in dirty if any(path.startswith(folder + "/") for folder in folders))
    if in_the_way:
        raise DoccontrolError("uncommitted changes in the folders import writes to: " + ", ".join(in_the_way[:10])
                              + (" …" if len(in_the_way) > 10 else ""),
                              fix="commit them first (git commit), or undo them (git restore, or remove the new "
                                  "files); import makes one commit of its own")


def _write_and_commit(root: Path, repo, files: dict[str, str | bytes], message: str) -> str:
    made_folders = _missing_folders(root, files)
    written: list[str] = []
    try:
        for path, content in files.items():
            if isinstance(content, str):
                atomic_write_text(root / path, content)
            else:
                atomic_write_bytes(root / path, content)
            written.append(path)
        return repo.commit(list(files), message)
    except BaseException as error:
        repo.unstage(list(files))
        for path in written:
            (root / path).unlink(missing_ok=True)
        for folder in sorted(made_folders, key=len, reverse=True):
            with contextlib.suppress(OSError):
                (root / folder).rmdir()
        if isinstance(error, RepoError):
            raise DoccontrolError(f"the commit failed, so nothing was imported: {error}",
                                  fix="run the import again; check `git status` if it fails again") from None
        raise


def _missing_folders(root: Path, files: dict[str, str | bytes]) -> set[str]:
    missing = set()
    for path in files:
        parts = path.split("/")[:-1]
        for end in range(1, len(parts) + 1):
            folder = "/".join(parts[:end])
            if not os.path.lexists(root / folder):
                missing.add(folder)
    return missing


def _message(plan: Plan) -> str:
    numbers = [item.number for item in plan.documents]
    listed = ", ".join(numbers) if len(numbers) <= 4 else f"{numbers[0]} … {numbers[-1]}"
    how = "as drafts" if plan.options.as_drafts else "with their legacy status"
    return f"import: {len(numbers)} documents {how} ({listed})\n"
