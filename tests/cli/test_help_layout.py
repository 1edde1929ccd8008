"""`--help` reads as prose at 80 columns: each paragraph is wrapped to the terminal, not broken
where the docstring's source line ended (which left one-word lines and sentences cut in the
command lists)."""
from __future__ import annotations

import pytest
import typer
from rich.cells import cell_len
from typer.testing import CliRunner

import main
from cli.help_lang import commands, reflow

TREE = typer.main.get_command(main.app)
PAGES = sorted(path for path, _ in commands(TREE))


def _paragraphs(lines: list[str]) -> list[list[str]]:
    out, cur = [], []
    for line in lines:
        if line.strip():
            cur.append(line.strip())
        elif cur:
            out.append(cur)
            cur = []
    return out + ([cur] if cur else [])


def ragged(paragraph: list[str], width: int) -> list[str]:
    """Lines after which the next line's first word would still have fitted: a break the
    wrapper did not make."""
    return [a for a, b in zip(paragraph, paragraph[1:]) if cell_len(a) + 1 + cell_len(b.split()[0]) <= width]


def _page(path: str, lang: str = "en") -> list[str]:
    args = ["--lang", lang, *path.split()[1:], "--help"]
    out = CliRunner().invoke(main.app, args, env={"COLUMNS": "80", "TERM": "dumb"})
    assert out.exit_code == 0, out.output
    return out.output.splitlines()


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("path", PAGES)
def test_a_help_page_wraps_its_paragraphs_to_the_terminal(path, lang):
    lines = _page(path, lang)
    start = next(i for i, l in enumerate(lines) if l.strip().startswith("Usage:")) + 1
    end = next((i for i, l in enumerate(lines) if l.startswith("╭")), len(lines))
    for para in _paragraphs(lines[start:end]):
        assert not ragged(para, 78), (path, para)


@pytest.mark.parametrize("path", [p for p, c in commands(TREE) if getattr(c, "commands", None)])
def test_a_command_list_shows_each_summary_as_one_wrapped_paragraph(path):
    lines = _page(path)
    titles = ("Commands", "命令")  # typer's panel titles stay Chinese in a process once a zh page was shown
    top = next(i for i, l in enumerate(lines) if l.startswith("╭") and any(t in l for t in titles))
    body = [line[1:-1] for line in lines[top + 1:next(i for i in range(top, len(lines)) if lines[i].startswith("╰"))]]
    first = body[0]
    col = len(first) - len(first[1 + len(first.split()[0]):].lstrip())  # where the summaries' column begins
    rows = []
    for content in body:
        if content[:col].strip():
            rows.append([content[col:].strip()])
        else:
            rows[-1].append(content[col:].strip())
    width = max(cell_len(l) for r in rows for l in r)
    assert rows
    for row in rows:
        assert not ragged(row, width), (path, row)


def test_reflow_joins_lines_keeps_paragraphs_and_joins_chinese_without_a_space():
    assert reflow("One line\n    and the next.\n\n    Second paragraph\n    here.") == "One line and the next.\n\nSecond paragraph here."
    assert reflow("真实的定时任务,\n模拟的执法人员 (HTTP\nclient)") == "真实的定时任务,模拟的执法人员 (HTTP client)"
    assert reflow("no break") == "no break" and reflow(None) is None
