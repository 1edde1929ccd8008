"""Finding a company the way officers type it (企业查找): any part of its name, its unified social
credit code (统一社会信用代码) or the organisation code inside it (组织机构代码, characters 9-17),
or its number in the store — matched forgivingly (rapidfuzz) so a typo or a missing 有限公司 still
finds it. One function, `resolve_company`, for every command that takes a company; read without
the ORM (listing.store.reader), so a read command given --company stays fast.
"""
from __future__ import annotations

from dataclasses import dataclass

from listing.domain.policy import Actor, authorize
from listing.store.reader import Reader, query
from messages.errors import NotFound, ValidationError

FUZZY_CUTOFF = 70  # rapidfuzz score (0-100) a name must reach to count as a match
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
    by_id = {r["id"]: r for r in rows}
    fuzzy = process.extract(q, names, scorer=fuzz.WRatio, score_cutoff=FUZZY_CUTOFF, limit=limit)
    return [_candidate(by_id[key], score) for _, score, key in fuzzy]


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
