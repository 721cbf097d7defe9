"""The server-side guard: a git pre-receive hook that refuses pushes the record would not accept.

    #!/bin/sh
    exec doccontrol guard          (hooks/pre-receive of the bare repository)

Git hands the hook one line per ref being updated (`OLD NEW REF`), with the pushed objects
readable but not yet accepted. For each branch the guard proves the record at NEW with its
history, exactly as `verify` does, and refuses the push when NEW has a problem OLD did not
have: a signature that does not verify or that the roster of its time does not allow, an edit
of an effective document without a new revision, a release or withdrawal the record would
reject, a configuration (roster) change nobody empowered approved, a statement removed or
changed. It also refuses statements dated more than the policy's tolerance before the
server's clock, or after it: the server's clock is the witness against backdating, which a
signer's own machine cannot be. Tags are a convenience: new ones are accepted, moving or
deleting an existing one is refused.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from . import clock
from .config import Config, ConfigError, config_from_content
from .ledger import parse_ledger
from .model import Finding, Severity
from .proof import Proof, documents_at, prove
from .repo import Repo
from .signing import Verifier
from .verification import compare_documents

ZERO = "0" * 40
CLOCK_SKEW = dt.timedelta(minutes=5)


@dataclass(frozen=True)
class Refusal:
    ref: str
    commit: str
    reason: str

    def __str__(self) -> str:
        where = f" (commit {self.commit[:10]})" if self.commit else ""
        return f"refused {self.ref}{where}: {self.reason}"


def parse_updates(text: str) -> list[tuple[str, str, str]]:
    updates = []
    for line in text.splitlines():
        fields = line.split()
        if len(fields) == 3:
            updates.append((fields[0], fields[1], fields[2]))
    return updates


def guard(repo: Repo, updates: list[tuple[str, str, str]], verifier: Verifier,
          now: dt.datetime | None = None) -> list[Refusal]:
    now = now or clock.now()
    refusals: list[Refusal] = []
    for old, new, ref in updates:
        if ref.startswith("refs/tags/"):
            if old != ZERO:
                refusals.append(Refusal(ref, new, "release tags are not moved or deleted"))
            continue
        if new == ZERO:
            continue
        refusals += _check_branch(repo, old if old != ZERO else None, new, ref, verifier, now)
    return refusals


def _check_branch(repo: Repo, old: str | None, new: str, ref: str, verifier: Verifier,
                  now: dt.datetime) -> list[Refusal]:
    refusals = _removed_statements(repo, old, new, ref)
    after = _judged(repo, new, verifier)
    before = _judged(repo, old, verifier) if old else ([], None)
    known = {_key(f) for f in before[0]}
    commits = repo.new_commits(old, new)
    for finding in after[0]:
        if finding.severity is Severity.ERROR and _key(finding) not in known:
            refusals.append(Refusal(ref, _blame(repo, finding, new, after[1], commits), _reason(finding)))
    proof = after[1]
    if proof is not None:
        refusals += _dated_statements(repo, proof, old, new, ref, now)
    return refusals


def _judged(repo: Repo, rev: str, verifier: Verifier) -> tuple[list[Finding], Proof | None]:
    """Every error of the record at rev: the proof from its history, and the documents held against it."""
    proof = prove(repo, verifier, rev=rev, full=True)
    findings = list(proof.findings)
    config = _approved_config(repo, proof)
    if config is not None:
        documents = documents_at(repo, rev, config)
        findings += documents.findings
        findings += compare_documents(documents.documents, proof.evaluation)[1]
        findings += _configuration_change(repo, rev, proof)
    return findings, proof


def _approved_config(repo: Repo, proof: Proof) -> Config | None:
    chain = proof.evaluation.chain
    if chain.latest is None:
        return None
    return config_from_content(repo.root, chain.latest_content(), chain.latest.version)


def _configuration_change(repo: Repo, rev: str, proof: Proof) -> list[Finding]:
    """The configuration files at rev must be an approved version: a roster change takes effect only signed."""
    from .config import CONFIG_FILE
    from .roster import configuration_content
    from .schema import CatalogueModel, ConfigModel
    from .site_options import OPTIONS_FILE, SiteOptions, parse_site_options, site_content
    from .statements import content_fingerprint
    from .yamlread import YamlProblem, read_yaml

    latest = proof.evaluation.chain.latest
    try:
        texts = repo.read_files(rev, [CONFIG_FILE])
        model = ConfigModel.model_validate(read_yaml(texts[CONFIG_FILE].decode("utf-8")).data)
        catalogue_text = repo.read_files(rev, [model.clause_catalogue])[model.clause_catalogue]
        catalogue = CatalogueModel.model_validate(read_yaml(catalogue_text.decode("utf-8")).data)
        try:
            options = parse_site_options(repo.read_files(rev, [OPTIONS_FILE])[OPTIONS_FILE].decode("utf-8"))
        except KeyError:
            options = SiteOptions()
        logo = repo.read_files(rev, [options.logo])[options.logo] if options.logo else None
        site = site_content(repo.root, options, logo)
    except (KeyError, UnicodeDecodeError, YamlProblem, ValueError, ConfigError):
        return [Finding(CONFIG_FILE, 1, "configuration-unapproved", "the configuration files cannot be read",
                        "push a valid configuration, approved with `doccontrol config approve`")]
    if latest is None or content_fingerprint(configuration_content(model, catalogue, site)) != latest.fingerprint:
        return [Finding(CONFIG_FILE, 1, "configuration-unapproved",
                        "the configuration (roster, rights, numbering or clauses) differs from every approved version",
                        "have a person allowed to change it approve it: doccontrol config approve --key KEY")]
    return []


def _removed_statements(repo: Repo, old: str | None, new: str, ref: str) -> list[Refusal]:
    """Every ledger line at old must still be at new, in its place: the record only grows."""
    if old is None:
        return []
    before, after = repo.ledger_files(old), repo.ledger_files(new)
    refusals = []
    for path, data in before.items():
        if not after.get(path, b"").startswith(data):
            refusals.append(Refusal(ref, new, f"the push removes or changes statements in {path}; the record only "
                                              "grows (was the history rewritten?)"))
    return refusals


def _dated_statements(repo: Repo, proof: Proof, old: str | None, new: str, ref: str,
                      now: dt.datetime) -> list[Refusal]:
    """Statements this push adds, dated too long before the server's clock (or after it)."""
    known: set[tuple[str, str]] = set()
    if old is not None:
        for path, data in repo.ledger_files(old).items():
            known |= {(path, entry.raw) for entry in parse_ledger(path, data).entries}
    latest = proof.evaluation.chain.latest
    tolerance = dt.timedelta(hours=latest.model.policy.backdating_hours if latest else 24)
    refusals = []
    for path, data in repo.ledger_files(new).items():
        for entry in parse_ledger(path, data).entries:
            if (path, entry.raw) in known:
                continue
            moment = entry.statement.time
            commit = proof.history.added.get((path, entry.raw), "")
            if moment < now - tolerance:
                refusals.append(Refusal(ref, commit, f"{path}:{entry.line}: a statement by {entry.statement.name} is "
                                                     f"dated {entry.statement.at}, more than {tolerance} before the "
                                                     f"server's time {now.isoformat()}: backdated statements are "
                                                     "not accepted"))
            elif moment > now + CLOCK_SKEW:
                refusals.append(Refusal(ref, commit, f"{path}:{entry.line}: a statement by {entry.statement.name} is "
                                                     f"dated {entry.statement.at}, after the server's time "
                                                     f"{now.isoformat()}"))
    return refusals


def _blame(repo: Repo, finding: Finding, rev: str, proof: Proof | None, commits: list[str]) -> str:
    """The pushed commit that brought the problem: the one that added the ledger line, or last changed the file."""
    if proof is not None and finding.path.startswith("signatures/"):
        try:
            data = repo.read_files(rev, [finding.path])[finding.path]
        except KeyError:
            data = b""
        for entry in parse_ledger(finding.path, data).entries:
            if entry.line == finding.line and (finding.path, entry.raw) in proof.history.added:
                return proof.history.added[(finding.path, entry.raw)]
    for sha in reversed(commits):
        if finding.path in repo.changed_paths(sha):
            return sha
    return commits[-1] if commits else ""


def _key(finding: Finding) -> tuple[str, str, str]:
    return finding.path, finding.rule, finding.message


def _reason(finding: Finding) -> str:
    return f"{finding.path}:{finding.line}: {finding.message} [{finding.rule}]"
