"""The message catalogs (gettext .po/.mo): complete in both languages, compiled, and covering
every key the code names."""
import ast
import re
from pathlib import Path

from babel.messages.pofile import read_po

from messages import DOMAIN, LANGS, LOCALE_DIR, placeholders, t

ROOT = Path(__file__).resolve().parents[1]


def _catalog(lang):
    with open(LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po", "rb") as f:
        return {m.id: m.string for m in read_po(f, locale=lang) if m.id}


def _keys(cat):
    return {k for k in cat if re.fullmatch(r"[a-z][a-z0-9_]*(\.[a-z0-9_]+)*", k)}


def test_every_key_exists_in_both_languages_with_the_same_placeholders():
    zh, en = _catalog("zh"), _catalog("en")
    assert len(_keys(en)) > 200
    assert _keys(zh) == _keys(en)
    for key in _keys(en):
        assert zh[key] and en[key], key
        assert placeholders(zh[key]) == placeholders(en[key]), key


def test_compiled_catalogs_are_up_to_date():
    from messages.__main__ import compiled

    for lang in LANGS:
        fresh, current = compiled(lang)
        assert fresh == current, f"{lang}: run python -m messages compile"


def test_every_key_the_code_names_has_a_text():
    """A string literal in the product that looks like a message key (its first part is one of the
    catalog's prefixes) must be in the catalog: a raw key must never reach a person."""
    keys = _keys(_catalog("en"))
    prefixes = {"err", "msg", "col", "notify", "imp", "report", "title", "check"}  # only ever message keys
    missing = set()
    for folder in ("listing", "rules", "jobs", "cli"):
        for path in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Constant) and isinstance(node.value, str) and re.fullmatch(r"[a-z_]+(\.[a-z0-9_]+)+", node.value):
                    if node.value.split(".")[0] in prefixes and node.value not in keys and not node.value.endswith("_"):
                        missing.add(f"{path.relative_to(ROOT)}: {node.value}")
    assert not missing, sorted(missing)


def test_translation_falls_back_and_never_raises():
    assert t("err.file_missing", "zh", path="a.csv") == "找不到文件 a.csv"
    assert t("err.file_missing", "en", path="a.csv") == "file not found: a.csv"
    assert t("no.such.key", "zh", x=1) == "no.such.key x=1"


def test_every_help_text_of_the_cli_has_its_chinese():
    """`guapai --lang zh ... --help` is Chinese throughout: a new option without its translation
    fails here (add it with `python -m tools.help_catalog`, fill it in, `python -m messages compile`)."""
    from tools.help_catalog import missing

    assert missing() == []


def test_help_is_printed_in_chinese(monkeypatch):
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "main.py", "--lang", "zh", "rules", "check", "--help"], cwd=ROOT,
                         capture_output=True, text=True, env={"PATH": "/usr/bin:/bin", "COLUMNS": "200"}, check=True).stdout
    assert "列出符合挂牌标准的企业" in out and "选项" in out and "显示此帮助并退出" in out
    assert "List the companies" not in out and "Show this message" not in out
