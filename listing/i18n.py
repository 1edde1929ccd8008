"""Bilingual messages (中文 / English).

Every user-facing message and table header is a key here with both languages. Parts of the
product add their own keys with `register(...)` next to the code that uses them; a test checks
that every key has both languages and that the placeholders match.
"""
from __future__ import annotations

import locale
import os
import string

LANGS = ("zh", "en")

CATALOG: dict[str, dict[str, str]] = {}


def register(messages: dict[str, tuple[str, str]]) -> None:
    """Add messages given as key -> (zh, en)."""
    for key, (zh, en) in messages.items():
        CATALOG[key] = {"zh": zh, "en": en}


def default_lang() -> str:
    """GUAPAI_LANG, else the locale: Chinese locales get zh, everything else en."""
    env = os.environ.get("GUAPAI_LANG")
    if env in LANGS:
        return env
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(var)
        if value:
            return "zh" if value.lower().startswith("zh") else "en"
    loc = locale.getlocale()[0] or ""
    return "zh" if loc.lower().startswith("zh") else "en"


def load_all() -> None:
    """Import every module that registers messages (a key may live beside code not yet loaded)."""
    import importlib
    import pkgutil
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    for package in ("listing", "rules", "jobs"):
        for info in pkgutil.walk_packages([str(root / package)], prefix=f"{package}."):
            path = root / Path(*info.name.split("."))
            source = path.with_suffix(".py") if path.with_suffix(".py").exists() else path / "__init__.py"
            if source.exists() and "register(" in source.read_text(encoding="utf-8"):
                importlib.import_module(info.name)
    _state["loaded"] = True


_state = {"loaded": False}


def _from_source(key: str) -> bool:
    """Register `key` from the register() call that defines it, read from the source with ast
    and not imported: a table header registered beside heavy code (polars, numpy, httpx) must
    not cost a read command that code's import. False when the call is not plain literals."""
    import ast
    from pathlib import Path

    root, needle = Path(__file__).resolve().parents[1], f'"{key}"'
    for package in ("listing", "rules", "jobs"):
        for path in sorted((root / package).rglob("*.py")):
            text = path.read_text(encoding="utf-8")
            if needle not in text or "register(" not in text:
                continue
            for node in ast.walk(ast.parse(text)):
                if not (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "register"
                        and node.args and isinstance(node.args[0], ast.Dict)):
                    continue
                for k, v in zip(node.args[0].keys, node.args[0].values):
                    if isinstance(k, ast.Constant) and k.value == key:
                        try:
                            zh, en = ast.literal_eval(v)
                        except (ValueError, TypeError, SyntaxError):
                            return False
                        register({key: (zh, en)})
                        return True
    return False


def t(key: str, lang: str = "en", **params: object) -> str:
    entry = CATALOG.get(key)
    if entry is None and not _state["loaded"]:
        if not _from_source(key):
            load_all()
        entry = CATALOG.get(key)
    if entry is None:
        # An unknown key is a bug, but the officer still deserves the facts.
        return key + (" " + ", ".join(f"{k}={v}" for k, v in params.items()) if params else "")
    text = entry.get(lang) or entry["en"]
    return text.format(**params) if params else text


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


register(
    {
        # generic
        "error": ("错误", "Error"),
        "rows": ("行", "rows"),
        "done": ("完成", "done"),
        "yes": ("是", "yes"),
        "no": ("否", "no"),
        "err.bad_lang": ("不支持的语言 {lang}(可选 zh 或 en)", "unsupported language {lang} (use zh or en)"),
        "col.jurisdiction": ("辖区", "jurisdiction"),
        "col.name": ("姓名", "name"),
        "col.role": ("角色", "role"),
        "col.department": ("部门", "department"),
        "col.uscc": ("统一社会信用代码", "credit code"),
        "col.as_of": ("截至", "as of"),
        "col.company": ("企业", "company"),
        "col.vehicles": ("车辆", "vehicles"),
        "col.violations": ("违法", "violations"),
        "col.due": ("期限", "due"),
        "col.id": ("编号", "id"),
        "col.state": ("状态", "state"),
        "col.cycle": ("周期", "cycle"),
        "col.cycle_due": ("周期截止", "cycle due"),
        "col.at": ("时间", "time"),
        "col.actor": ("操作人", "actor"),
        "col.id_number": ("身份证号", "ID number"),
        "col.phone": ("电话", "phone"),
        "err.file_missing": ("找不到文件 {path}", "file not found: {path}"),
        "err.bad_date": ("日期格式错误:{value}(应为 YYYY-MM-DD)", "bad date: {value} (expected YYYY-MM-DD)"),
    }
)
