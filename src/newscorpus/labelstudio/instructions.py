"""annotation/GUIDELINES.md as the project's instructions in Label Studio (HTML).

Label Studio shows a project's `expert_instruction` before the first task when
`show_instruction` is on, and behind the "Instructions" button of the labeling view. push
renders the guidelines here and keeps the project's copy in step with the file. Raw HTML in the
Markdown is escaped, never passed through, and links other than http(s), mailto and anchors are
not made links, so the file cannot put markup or script into Label Studio.
"""

from __future__ import annotations

from html import escape

from newscorpus.errors import LabelStudioError
from newscorpus.project import Project

GUIDELINES = "annotation/GUIDELINES.md"
_STYLE = (
    "<style>.newscorpus-guidelines table{border-collapse:collapse;margin:8px 0}"
    ".newscorpus-guidelines th,.newscorpus-guidelines td{border:1px solid #d9d9d9;padding:2px 6px;"
    "vertical-align:top;text-align:left}</style>"
)


def render_markdown(markdown: str) -> str:
    """CommonMark with tables to HTML; raw HTML is shown as text."""
    try:
        from markdown_it import MarkdownIt
    except ImportError:
        raise LabelStudioError(
            "rendering the guidelines needs markdown-it-py: pip install markdown-it-py (it comes with the package's"
            " dependencies; reinstall with `source scripts/bootstrap.sh`)"
        ) from None
    renderer = MarkdownIt("commonmark", {"html": False}).enable("table")
    renderer.validateLink = _safe_link
    return renderer.render(markdown)


def _safe_link(url: str) -> bool:
    lowered = url.strip().lower()
    return lowered.startswith(("http://", "https://", "mailto:", "#"))


def instructions_html(project: Project) -> str:
    """The project's instructions: the guidelines, rendered, with where they come from."""
    path = project.root / GUIDELINES
    try:
        markdown = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise LabelStudioError(f"{GUIDELINES} is missing; push shows it to annotators as the instructions") from None
    schema = project.schema
    source = (
        f"<p><em>From {escape(GUIDELINES)} (guidelines {escape(schema.guideline_version)}, schema"
        f" {escape(schema.schema_version)}), set by <code>newscorpus annotate push</code>.</em></p>"
    )
    return f'{_STYLE}<div class="newscorpus-guidelines">{source}{render_markdown(markdown)}</div>'
