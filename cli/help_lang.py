"""`--help` in the officer's language: the help texts of the whole command tree (their English
is the msgid in messages/locale/zh/.../guapai.po) and typer's own panel words, translated in
place once, before any help is printed. `guapai --lang zh rules --help` and GUAPAI_LANG=zh both work."""
from __future__ import annotations

import inspect
import re
from types import SimpleNamespace
from typing import Iterator

HELP_OPTION = "Show this message and exit."  # typer's own help for --help

# typer's own words on a help page (typer.rich_utils module constants)
_TYPER_WORDS = {
    "zh": {
        "ARGUMENTS_PANEL_TITLE": "参数", "OPTIONS_PANEL_TITLE": "选项", "COMMANDS_PANEL_TITLE": "命令",
        "ERRORS_PANEL_TITLE": "错误", "ABORTED_TEXT": "已中止。", "DEFAULT_STRING": "[默认:{}]",
        "ENVVAR_STRING": "[环境变量:{}]", "REQUIRED_LONG_STRING": "[必填]", "DEPRECATED_STRING": "(已弃用) ",
        "RICH_HELP": "运行 [blue]'{command_path} {help_option}'[/] 查看帮助。",
    }
}
_done: set[str] = set()


def commands(command) -> Iterator[tuple[str, object]]:
    """Every command of the tree with its path (`guapai rules check`)."""
    stack = [("guapai", command)]
    while stack:
        path, cmd = stack.pop()
        yield path, cmd
        for name, sub in sorted(getattr(cmd, "commands", {}).items(), reverse=True):
            stack.append((f"{path} {name}", sub))


def help_texts(command) -> Iterator[str]:
    """Every help text a person can read in `--help` (the msgids of the zh catalog)."""
    yield HELP_OPTION
    for _, cmd in commands(command):
        for text in (cmd.help, cmd.short_help):
            if text:
                yield text
        for param in cmd.params:
            if getattr(param, "help", None):
                yield param.help


def lang_from_args(args: list[str]) -> str:
    from messages import LANGS, default_lang

    for i, arg in enumerate(args):
        if arg == "--lang" and i + 1 < len(args) and args[i + 1] in LANGS:
            return args[i + 1]
        if arg.startswith("--lang=") and arg.split("=", 1)[1] in LANGS:
            return arg.split("=", 1)[1]
    return default_lang()


_CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")


def reflow(text: str | None) -> str | None:
    """A help text with each paragraph on one line: docstrings are wrapped at 100 columns in the
    source, and typer (rich mode) keeps those breaks, so at 80 columns a paragraph came out
    ragged and a summary in a command list broke mid-sentence. Blank lines still part paragraphs;
    lines of Chinese join without a space."""
    if not text or "\n" not in text:
        return text
    paragraphs = []
    for para in inspect.cleandoc(text).split("\n\n"):
        out = ""
        for line in (line.strip() for line in para.split("\n")):
            if out and line:
                out += "" if _CJK.match(out[-1]) or _CJK.match(line[0]) else " "
            out += line
        paragraphs.append(out)
    return "\n\n".join(paragraphs)


def reflow_all(command) -> None:
    """reflow() every help text of this invocation's command tree (typer builds a new tree per
    invocation, so the texts the catalog is keyed by stay as written)."""
    for _, cmd in commands(command):
        cmd.help = reflow(cmd.help)
        cmd.short_help = reflow(cmd.short_help)
        for param in cmd.params:
            if getattr(param, "help", None):
                param.help = reflow(param.help)


def localize(command, lang: str) -> None:
    """Translate the tree's help texts in place (once per process and language)."""
    if lang == "en" or lang in _done:
        return
    _done.add(lang)
    from messages import help_text

    for _, cmd in commands(command):
        cmd.help = help_text(cmd.help, lang)
        cmd.short_help = help_text(cmd.short_help, lang)
        for param in cmd.params:
            if getattr(param, "help", None):
                param.help = help_text(param.help, lang)
        option = cmd.get_help_option(SimpleNamespace(help_option_names=["--help"]))  # made on demand by typer
        if option is not None:
            option.help = help_text(HELP_OPTION, lang)
    import typer.rich_utils as rich_utils

    for name, value in _TYPER_WORDS.get(lang, {}).items():
        setattr(rich_utils, name, value)
