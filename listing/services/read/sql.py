"""Optional filters written as SQL the way the ORM wrote them: a condition is in the WHERE clause
only when its filter is given. (`:x IS NULL OR col = :x` does not do: PostgreSQL cannot type a
parameter that only meets IS NULL, and psycopg sends each occurrence as its own parameter.)"""
from __future__ import annotations


def where(*conditions: str | None) -> str:
    """`WHERE a AND b` of the conditions given (None: a filter not asked for); '' without any."""
    given = [c for c in conditions if c]
    return "WHERE " + " AND ".join(given) if given else ""
