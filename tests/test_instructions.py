"""The guidelines as Label Studio instructions: Markdown to HTML, raw HTML and unsafe links escaped."""

from __future__ import annotations

from newscorpus.labelstudio.instructions import instructions_html, render_markdown
from tests.helpers import copy_project


def test_markdown_renders_with_tables_and_without_raw_html():
    html = render_markdown("# T\n\n<b onclick=x>b</b>\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n[x](javascript:alert(1))\n")
    assert "<h1>T</h1>" in html and "<td>1</td>" in html
    assert "&lt;b onclick=x&gt;b&lt;/b&gt;" in html and "<b " not in html
    assert 'href="javascript' not in html and "[x](javascript:alert(1))" in html


def test_instructions_name_their_source_and_versions(tmp_path):
    project = copy_project(tmp_path / "repo")
    html = instructions_html(project)
    assert "From annotation/GUIDELINES.md (guidelines 1.1.0, schema 1.0.0)" in html
    assert "<h2>8. Checklist before you submit</h2>" in html
