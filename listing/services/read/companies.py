"""Finding a company the way officers type it (企业查找): any part of its name, its unified social
credit code (统一社会信用代码) or the organisation code inside it (组织机构代码, characters 9-17),
or its number in the store — matched forgivingly so a typo or a missing 有限公司 still finds it:
by sound (pypinyin) when a character was typed as another of the same pinyin, the commonest slip of
a pinyin input method (路杰 for 路捷), and when the name is typed in pinyin or its initials on a
terminal without Chinese input (lujie, ljwl); then by closeness (rapidfuzz). One function,
`resolve_company`, for every command that takes a company; read without the ORM
(listing.store.reader), so a read command given --company stays fast.
"""
from __future__ import annotations

import re
import threading
from dataclasses import dataclass

from listing.domain.policy import Actor, authorize
from listing.store.reader import Reader, query
from messages.errors import NotFound, ValidationError

FUZZY_CUTOFF = 70  # rapidfuzz score (0-100) a name must reach to count as a match
SOUND_SCORE = 90.0  # a name matched by its sound: below a part of the name as typed (95), above closeness
MAX_CANDIDATES = 9  # a numbered choice an officer can read at a glance

_COLUMNS = "SELECT id, uscc, name, jurisdiction FROM company"
_BY_CODE = query(f"{_COLUMNS} WHERE uscc = :code OR substr(uscc, 9, 9) = :code")
_BY_CODE_OR_ID = query(f"{_COLUMNS} WHERE uscc = :code OR substr(uscc, 9, 9) = :code OR id = :id")
_ALL = query(_COLUMNS)
_IN_JURISDICTION = query(f"{_COLUMNS} WHERE jurisdiction = :jurisdiction")
_ONE = query("SELECT id, uscc, name, business_type, jurisdiction FROM company WHERE id = :id")


@dataclass(frozen=True)
class Candidate:
    id: int
    uscc: str
    name: str
    jurisdiction: str
    score: float  # 100 = exact

    def to_dict(self) -> dict:
        return {"id": self.id, "uscc": self.uscc, "name": self.name, "jurisdiction": self.jurisdiction,
                "score": round(self.score, 1)}


def _candidate(row, score: float) -> Candidate:
    return Candidate(row["id"], row["uscc"], row["name"], row["jurisdiction"], score=score)


def _normalise(text: str) -> str:
    """Case, spaces and full-width forms do not matter (ＡＢＣ１２３ = abc123)."""
    import unicodedata

    return "".join(unicodedata.normalize("NFKC", text).split()).casefold()


def find_companies(db, actor: Actor, query: str, limit: int = MAX_CANDIDATES) -> list[Candidate]:
    """Companies in the actor's jurisdiction matching `query`, best first. An exact code (USCC,
    organisation code, id) or an exact name wins alone; otherwise every name containing the
    query, then names close to it (rapidfuzz WRatio >= FUZZY_CUTOFF). `db`: a Reader or an ORM
    session."""
    from rapidfuzz import fuzz, process

    authorize(actor, "data.read")
    q = _normalise(query or "")
    if not q:
        raise ValidationError("err.company_query_empty")
    reader = Reader.of(db)
    # an exact code names one company wherever it is: the action on it is then refused (exit 3,
    # audited) by the permission check if it lies outside the actor's jurisdiction
    code = q.upper()
    by_code = (reader.rows(_BY_CODE_OR_ID, code=code, id=int(q)) if q.isdigit() and len(q) < 9
               else reader.rows(_BY_CODE, code=code))
    if by_code:
        return [_candidate(r, 100.0) for r in by_code[:limit]]
    rows = reader.rows(_ALL) if actor.city_level else reader.rows(_IN_JURISDICTION, jurisdiction=actor.jurisdiction)
    names = {r["id"]: _normalise(r["name"]) for r in rows}
    exact = [r for r in rows if names[r["id"]] == q]
    if exact:
        return [_candidate(r, 100.0) for r in exact[:limit]]
    contained = [_candidate(r, 95.0) for r in rows if q in names[r["id"]]
                 or (len(q) >= 6 and q in r["uscc"].casefold())]
    if contained:
        return sorted(contained, key=lambda c: (len(c.name), c.name))[:limit]
    q_sound, sounds = _read_aloud(q, names)
    heard = _heard(q, q_sound, sounds)
    if heard:
        by_sound = [_candidate(r, SOUND_SCORE) for r in rows if r["id"] in heard]
        return sorted(by_sound, key=lambda c: (len(c.name), c.name))[:limit]
    by_id = {r["id"]: r for r in rows}  # closeness of the sounds: a character typed as its homophone costs nothing
    fuzzy = process.extract(q_sound, sounds, scorer=fuzz.WRatio, score_cutoff=FUZZY_CUTOFF, limit=limit)
    return [_candidate(by_id[key], score) for _, score, key in fuzzy]


# A Chinese character's sound is its toneless default reading (pypinyin), written as one private-use
# character per syllable, so that a name read aloud is a string as long as the name: 路 and 鹿 both
# become the character of "lu", and containment and rapidfuzz work on sounds as they do on names.
_PUA = 0xF0000
_syllable_char: dict[str, str] = {}  # "lu" -> its character
_syllable: dict[str, str] = {}  # its character -> "lu"
_sound_of: dict[int, str] = {}  # code point of a Chinese character -> its syllable's character
_learning = threading.Lock()


def _is_han(ch: str) -> bool:
    return "\u3400" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff"


def _sound_table(texts) -> dict[int, str]:
    """str.translate's table for every Chinese character of `texts` (each new character read
    once per process; any other character stands for itself)."""
    new = {ch for ch in set("".join(texts)) if _is_han(ch) and ord(ch) not in _sound_of}
    if new:
        from pypinyin import lazy_pinyin

        with _learning:  # one character per syllable, also when two threads learn at once
            for ch in new:
                reading = lazy_pinyin(ch)[0]
                if reading not in _syllable_char:
                    mark = chr(_PUA + len(_syllable_char))
                    _syllable[mark], _syllable_char[reading] = reading, mark
                _sound_of[ord(ch)] = _syllable_char[reading]
    return _sound_of


def sounding(query: str, names: dict) -> set:
    """The keys of `names` (key -> company name) that `query` matches by sound (see _heard): for a
    filter such as the board's search when no name contains the query as typed."""
    q = _normalise(query or "")
    if not q or not names:
        return set()
    return _heard(q, *_read_aloud(q, {key: _normalise(name) for key, name in names.items()}))


def _read_aloud(q: str, names: dict) -> tuple[str, dict]:
    """The sounds of the (normalised) query and names."""
    table = _sound_table([q, *names.values()])
    return q.translate(table), {key: name.translate(table) for key, name in names.items()}


_PARTS = re.compile("[\U000F0000-\U000FFFFD]+|[a-z]+|[0-9]+|[^\U000F0000-\U000FFFFDa-z0-9]+")


def _parts(sound: str) -> list[str]:
    """A query's sound cut where the script changes (路捷287: 路捷, 287; lujie287: lujie, 287)."""
    return _PARTS.findall(sound)


def _in_order(parts: list[str], text: str) -> bool:
    at = 0
    for part in parts:
        at = text.find(part, at)
        if at < 0:
            return False
        at += len(part)
    return True


def _heard(q: str, q_sound: str, sounds: dict) -> set:
    """The keys of the names `q` is part of when read aloud: the same sounds in a row (路杰 in
    杭州路捷物流), or, typed in ASCII, part of the name's pinyin (lujie) or of its initials
    (ljwl); where the query changes script, each part in order (路杰287, lujie287: the name's
    number after its words). A query of fewer than two letters is not matched this way."""
    parts = _parts(q_sound)
    if not q.isascii():
        return {key for key, sound in sounds.items() if _in_order(parts, sound)}
    if not q.isalnum() or sum(ch.isalpha() for ch in q) < 2:
        return set()
    known = list(_syllable.items())  # one step under the GIL: another thread may be learning
    spelled = {ord(mark): reading for mark, reading in known}  # str.translate: sound -> pinyin
    initials = {ord(mark): reading[:1] for mark, reading in known}
    return {key for key, sound in sounds.items()
            if _in_order(parts, sound.translate(spelled)) or _in_order(parts, sound.translate(initials))}


def resolve_company(db, actor: Actor, query: str, choose=None):
    """The one company `query` names: a Row (id, uscc, name, business_type, jurisdiction) on a
    Reader, the ORM row on a session (whose callers may go on to change it). Several matches:
    `choose(candidates)` picks one (a numbered choice on a terminal) or, without it, a
    ValidationError listing them (exit 2)."""
    found = find_companies(db, actor, query)
    if not found:
        raise NotFound("err.company_none", query=query)
    if len(found) > 1:
        picked = choose(found) if choose is not None else None
        if picked is None:
            raise AmbiguousCompany(query, found)
        found = [picked]
    if isinstance(db, Reader):
        return db.first(_ONE, id=found[0].id)
    from listing.store.tables import Company

    return db.get(Company, found[0].id)


class AmbiguousCompany(ValidationError):
    """Several companies match; `candidates` says which (the CLI prints them under --json)."""

    def __init__(self, query: str, candidates: list[Candidate]):
        listed = "; ".join(f"{c.name}({c.uscc})" for c in candidates)
        super().__init__("err.company_ambiguous", query=query, n=len(candidates), candidates=listed)
        self.candidates = candidates
