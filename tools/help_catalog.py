"""Add the CLI's help texts that the Chinese catalog lacks, as empty entries for a translator:

    python -m tools.help_catalog            # then fill the empty msgstr in messages/locale/zh/...po
    python -m messages compile

`--prune` removes the help texts no command uses any more. `--dump FILE` writes the missing ones as JSON {english: ""} instead; `--load FILE` takes such a
file back with its translations filled in. A test fails while any help text has no Chinese."""
from __future__ import annotations

import json
import sys

from messages import po


def missing() -> list[str]:
    import typer

    import main
    from cli.help_lang import help_texts

    translated = {m.id for m in _read() if m.id and m.string}
    seen = dict.fromkeys(help_texts(typer.main.get_command(main.app)))
    return [text for text in seen if text not in translated and not _is_chinese(text)]


def _read():
    return po.read("zh")


def _is_chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text) and not any(ch.isascii() and ch.isalpha() for ch in text)


def add(translations: dict[str, str]) -> int:
    cat = _read()
    for text, zh in translations.items():
        cat.add(text, zh, auto_comments=["cli help"])
    po.write("zh", cat)
    return len(translations)


def prune() -> list[str]:
    """Remove the help-text entries no command uses any more."""
    import typer

    import main
    from cli.help_lang import help_texts

    used = set(help_texts(typer.main.get_command(main.app)))
    cat = _read()
    stale = [m.id for m in cat if m.id and "cli help" in m.auto_comments and m.id not in used]
    for text in stale:
        cat.delete(text)
    po.write("zh", cat)
    return stale


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
    if argv[:1] == ["--prune"]:
        print(f"removed {len(prune())} help texts no command uses")
        return 0
    print(f"added {add(dict.fromkeys(missing(), ''))} empty entries")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
