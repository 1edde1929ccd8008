"""`python -m messages compile`: the .po catalogs compiled to .mo (Babel); `check` says which
.mo is stale without writing. Run after editing a .po file."""
from __future__ import annotations

import io
import sys

from messages import DOMAIN, LANGS, LOCALE_DIR


def compiled(lang: str) -> tuple[bytes, bytes]:
    """(the .mo the .po compiles to, the .mo on disk)."""
    from babel.messages.mofile import write_mo

    from messages import po

    buf = io.BytesIO()
    write_mo(buf, po.read(lang), use_fuzzy=False)
    mo = LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.mo"
    return buf.getvalue(), mo.read_bytes() if mo.exists() else b""


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "compile"
    stale = []
    for lang in LANGS:
        fresh, current = compiled(lang)
        if fresh != current:
            stale.append(lang)
            if command == "compile":
                (LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.mo").write_bytes(fresh)
    if command == "check" and stale:
        print(f"stale .mo for {', '.join(stale)}: run python -m messages compile", file=sys.stderr)
        return 1
    if command == "compile":
        print(f"compiled {', '.join(stale) or 'nothing (up to date)'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
