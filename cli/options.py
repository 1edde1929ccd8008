"""Checks for enumerated options (state, department, role, jurisdiction, rule, user): a value that
is not one of them is one clear line and exit 2, with "did you mean ...?" — never an empty table.

Case and full-width forms do not matter (`--state Listed` is `listed`), and each option may take
aliases (Chinese labels: `--department 交警`).
"""
from __future__ import annotations

from typing import Annotated, Iterable

import typer

from messages.errors import ValidationError

# `--json` on every command that prints data, declared here once (`as_json: JsonOption = False`);
# it may come before or after the subcommand (cli/context.py moves it).
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON (stable keys, ISO-8601 times) instead of tables.")]

SHOWN = 12  # allowed values listed in the message at most


def _key(text: str) -> str:
    import unicodedata

    return unicodedata.normalize("NFKC", text).strip().casefold().replace("-", "_").replace(" ", "_")


def did_you_mean(value: str, allowed: Iterable[str]) -> str | None:
    """The allowed value closest to `value`, if any is close (rapidfuzz ratio >= 60)."""
    from rapidfuzz import fuzz, process

    allowed = list(allowed)
    best = process.extractOne(_key(value), {a: _key(a) for a in allowed}, scorer=fuzz.ratio, score_cutoff=60)
    return best[2] if best else None


def check_choice(value: str | None, allowed: Iterable[str], option: str,
                 aliases: dict[str, str] | None = None) -> str | None:
    """`value` as one of `allowed` (None stays None); otherwise ValidationError (exit 2)."""
    if value is None:
        return None
    allowed = list(allowed)
    table = {_key(a): a for a in allowed} | {_key(k): v for k, v in (aliases or {}).items()}
    hit = table.get(_key(value))
    if hit is not None:
        return hit
    from cli import output
    from messages import t

    # in Chinese the choices are named by their Chinese aliases (拟挂牌, 交警 ...) where they have one
    words = {}
    if output.lang() != "en":
        for word, code in (aliases or {}).items():
            if not word.isascii():
                words.setdefault(code, word)
    guess = did_you_mean(value, allowed + list(aliases or {}))
    if guess and _key(guess) in table:
        guess = words.get(table[_key(guess)], table[_key(guess)])
    hint = t("hint.did_you_mean", output.lang(), guess=guess) if guess else ""
    shown = ", ".join(words.get(a, a) for a in allowed[:SHOWN]) + (", …" if len(allowed) > SHOWN else "")
    raise ValidationError("err.bad_choice", option=option, value=value, hint=hint, allowed=shown)


def department_aliases() -> dict[str, str]:
    return {"运管": "transport", "运输": "transport", "交警": "police", "公安": "police"}


def role_aliases() -> dict[str, str]:
    return {"交警": "police", "运管": "transport", "审核领导": "reviewer", "领导": "reviewer", "管理员": "admin"}


def check_jurisdiction(session, value: str | None) -> str | None:
    """A county/district that exists (a company or a user has it), or `*` / 全市 for the city."""
    if value is None:
        return None
    from listing.store.reader import Reader, query

    places = query('SELECT jurisdiction FROM company UNION SELECT jurisdiction FROM "user"')
    known = sorted({r.jurisdiction for r in Reader.of(session).rows(places)} - {"*"})
    return check_choice(value, known, "--jurisdiction")


def check_user(session, value: str | None, option: str = "--user") -> str | None:
    if value is None:
        return None
    from listing.store.reader import Reader, query

    names = [r.name for r in Reader.of(session).rows(query('SELECT name FROM "user" ORDER BY name'))]
    return check_choice(value, names, option)


def check_rule(value: str | None, option: str = "--rule") -> str | None:
    """A trajectory rule name (overspeed, fatigue_continuous, ...) or its Chinese label."""
    if value is None:
        return None
    from messages import keys, t

    rules = [k.removeprefix("rule.") for k in keys("rule.")]
    return check_choice(value, rules, option, aliases={t(f"rule.{r}", "zh"): r for r in rules})
