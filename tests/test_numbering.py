"""Numbering comes from the configuration: every pattern (file names, text, links) is built from it."""

from __future__ import annotations

from pathlib import Path

from conftest import CLAUSES, git, invoke, person, write

CONFIG = """\
company: Example Ltd
system: Quality management system
locale: en
clause_catalogue: clauses.yml
default_review_months: 24
types:
  procedure: {label: Procedure, prefix: SOP, width: 3, folder: procedures}
  form: {label: Form, prefix: R, department: QA, width: 5, folder: forms}
  policy: {label: Policy, prefix: POL, width: 2, folder: policies}
  manual: {label: Manual, prefix: QM, width: 2, folder: manual, multi_file: true}
people:
"""


def english_repo(root: Path) -> Path:
    root.mkdir(parents=True)
    people = "".join(person(name) for name in ("陈国华", "孙小雨"))
    people = people.replace("[manual, procedure, form, external]", "[manual, procedure, form, policy]")
    people = people.replace("[manual, procedure, instruction, form, external]", "[manual, procedure, form, policy]")
    write(root, "doccontrol.yml", CONFIG + people)
    write(root, "clauses.yml", CLAUSES)
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.name", "孙小雨")
    git(root, "config", "user.email", "sun@example.com")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "configuration")
    return root


def test_numbers_without_a_department_segment_one_letter_prefixes_and_wide_serials(runner, tmp_path):
    root = english_repo(tmp_path / "en")
    assert invoke(runner, root, "new", "procedure", "Complaint handling", "--author", "孙小雨").output == \
        "procedures/SOP-001-Complainthandling.md\n"
    assert invoke(runner, root, "new", "form", "Complaint record", "--author", "孙小雨").output == \
        "forms/R-QA-00001-Complaintrecord.md\n"
    assert invoke(runner, root, "new", "policy", "Quality policy", "--author", "孙小雨").output == \
        "policies/POL-01-Qualitypolicy.md\n"
    assert invoke(runner, root, "new", "manual", "Quality manual", "--author", "孙小雨").output == \
        "manual/QM-01-Qualitymanual/index.md\n"
    procedure = root / "procedures/SOP-001-Complainthandling.md"
    text = procedure.read_text(encoding="utf-8")
    assert "section: All" in text and "review_months: 24" in text and "## 1 Purpose" in text
    assert "department: \"质量部\"" in text  # the author's department
    policy = (root / "policies/POL-01-Qualitypolicy.md").read_text(encoding="utf-8")
    assert "type: policy" in policy and "## 3 Content" in policy
    write(root, "procedures/SOP-001-Complainthandling.md",
          text + "\nRecord it on R-QA-00001 and R-QA-00002; see POL-01.\n")
    out = invoke(runner, root, "check", expect=1).output
    assert "R-QA-00002 (in the text) is not a document in this repository [reference-missing]" in out
    assert "R-QA-00001 is cited in the text but not listed in references [reference-unlisted]" in out
    assert "POL-01 is cited in the text but not listed in references" in out


def test_a_number_of_the_wrong_width_is_reported_not_skipped(runner, tmp_path):
    root = english_repo(tmp_path / "en")
    path = Path(invoke(runner, root, "new", "form", "Record", "--author", "孙小雨").output.strip())
    wrong = root / "forms/R-QA-001-Record.md"
    (root / path).rename(wrong)
    wrong.write_text(wrong.read_text(encoding="utf-8").replace("R-QA-00001", "R-QA-001"), encoding="utf-8")
    out = invoke(runner, root, "check", expect=1).output
    assert ("forms/R-QA-001-Record.md:2: error: number R-QA-001 does not match the form numbering scheme "
            "(e.g. R-QA-00001) [number-pattern]") in out


def test_a_type_the_configuration_does_not_know(runner, tmp_path):
    root = english_repo(tmp_path / "en")
    out = invoke(runner, root, "new", "plan", "Audit plan", "--author", "孙小雨", expect=1).output
    assert "type plan is not configured" in out and "procedure, form, policy, manual" in out
