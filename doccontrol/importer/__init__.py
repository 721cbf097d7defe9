"""`doccontrol import`: bring an existing document set under control.

Sources: folders of Markdown (with or without another tool's front matter), MkDocs sites and Word
.docx files; one module per kind (`markdown`, `mkdocs`, `word`), the conversions they share
(`convert`), what other systems' metadata says (`legacy`), and the plan that numbers, converts and
writes them (`plan`).
"""

from .plan import ImportOptions, Plan, Planned, build_plan
from .report import describe_plan, next_steps
from .write import write_plan

__all__ = ["ImportOptions", "Plan", "Planned", "build_plan", "describe_plan", "next_steps", "write_plan"]
