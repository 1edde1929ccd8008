"""Add the CLI's help texts that the Chinese catalog lacks, as empty entries for a translator:

    python -m tools.help_catalog            # then fill the empty msgstr in messages/locale/zh/...po
    python -m messages compile

`--dump FILE` writes the missing ones as JSON {english: ""} instead; `--load FILE` takes such a
file back with its translations filled in. A test fails while any help text has no Chinese."""
from __future__ import annotations

import json
import sys

from messages import DOMAIN, LOCALE_DIR


def missing() -> list[str]:
    import typer

    import main
    from cli.help_lang import help_texts

    translated = {m.id for m in _read() if m.id and m.string}
    seen = dict.fromkeys(help_texts(typer.main.get_command(main.app)))
    return [text for text in seen if text not in translated and not _is_chinese(text)]


def _read():
    from babel.messages.pofile import read_po

    with open(LOCALE_DIR / "zh" / "LC_MESSAGES" / f"{DOMAIN}.po", "rb") as f:
        return read_po(f, locale="zh")


def _is_chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text) and not any(ch.isascii() and ch.isalpha() for ch in text)


def add(translations: dict[str, str]) -> int:
    from babel.messages.pofile import write_po

    po = LOCALE_DIR / "zh" / "LC_MESSAGES" / f"{DOMAIN}.po"
    cat = _read()
    for text, zh in translations.items():
        cat.add(text, zh, auto_comments=["cli help"])
    with open(po, "wb") as f:
        write_po(f, cat, sort_output=True, width=100, include_lineno=False)
    return len(translations)


def main(argv: list[str]) -> int:
    if argv[:1] == ["--dump"]:
        with open(argv[1], "w", encoding="utf-8") as f:
            json.dump({text: "" for text in missing()}, f, ensure_ascii=False, indent=1)
        return 0
    if argv[:1] == ["--load"]:
        with open(argv[1], encoding="utf-8") as f:
            data = {k: v for k, v in json.load(f).items() if v}
        print(f"added {add(data)} translations")
        return 0
    print(f"added {add(dict.fromkeys(missing(), ''))} empty entries")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
