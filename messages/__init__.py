"""What guapai says to people, in Chinese and English (中文 / English).

The words live in gettext catalogs (`messages/locale/<lang>/LC_MESSAGES/guapai.po`, compiled to
`.mo` beside them): message keys such as `err.listing_not_found` have a text in both languages,
and the CLI's help texts (English msgids) have their Chinese. Edit the `.po` files, then run
`python -m messages compile` (Babel); a test fails when a `.mo` is stale, when a key lacks a
language or its placeholders differ, or when the code uses a key that has no text.
"""
from __future__ import annotations

import gettext
import locale
import os
import string
from functools import cache
from pathlib import Path

LANGS = ("zh", "en")
DOMAIN = "guapai"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"


@cache
def catalog(lang: str) -> gettext.NullTranslations:
    """The compiled catalog of one language (English behind Chinese for anything missing)."""
    if lang not in LANGS:
        lang = "en"
    translations = gettext.translation(DOMAIN, LOCALE_DIR, languages=[lang], fallback=True)
    if lang != "en":
        translations.add_fallback(catalog("en"))
    return translations


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


def known(key: str, lang: str = "en") -> bool:
    return catalog(lang).gettext(key) != key


def keys(prefix: str = "") -> list[str]:
    """The message keys that start with `prefix` (e.g. every trajectory rule's `rule.` name)."""
    return sorted(k for k in catalog("en")._catalog if isinstance(k, str) and k and k.startswith(prefix))  # noqa: SLF001 - gettext keeps its messages there


def t(key: str, lang: str = "en", **params: object) -> str:
    """The message `key` in `lang`, its placeholders filled in."""
    text = catalog(lang).gettext(key)
    if text == key:
        # An unknown key is a bug (a test looks for them), but the officer still deserves the facts.
        return key + (" " + ", ".join(f"{k}={v}" for k, v in params.items()) if params else "")
    return text.format(**params) if params else text


def label(value: object, prefix: str | tuple[str, ...], lang: str = "en") -> object:
    """A coded value in `lang` when it has a message under `prefix` (or the first of several
    prefixes that has one): `label("police", "dept.", "zh")` -> 交警; booleans as yes/no; anything
    else (names, free text, numbers) unchanged."""
    if isinstance(value, bool):
        return t("yes" if value else "no", lang)
    if isinstance(value, str) and value:
        for p in (prefix,) if isinstance(prefix, str) else prefix:
            if p and known(p + value):
                return t(p + value, lang)
    return value


def help_text(text: str, lang: str) -> str:
    """A help text of the CLI (its English is the msgid) in `lang`."""
    return text if lang == "en" or not text else catalog(lang).gettext(text)


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}
