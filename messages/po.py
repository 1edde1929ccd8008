"""Reading and writing the .po catalogs with Babel (a development tool: `python -m messages
compile`, `python -m tools.help_catalog`); at run time guapai reads only the compiled .mo."""
from __future__ import annotations

from pathlib import Path

from messages import DOMAIN, LOCALE_DIR


def po_path(lang: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def read(lang: str):
    """The Babel catalog of `lang`'s .po file."""
    from babel.messages.pofile import read_po

    with open(po_path(lang), "rb") as f:
        return read_po(f, locale=lang)


def write(lang: str, catalog) -> None:
    from babel.messages.pofile import write_po

    with open(po_path(lang), "wb") as f:
        write_po(f, catalog, sort_output=True, width=100, include_lineno=False)
