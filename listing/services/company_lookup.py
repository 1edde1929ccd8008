"""Finding a company the way officers type it: now read without the ORM, in
listing.services.read.companies (re-exported here for existing callers)."""
from listing.services.read.companies import (  # noqa: F401 - re-exported
    FUZZY_CUTOFF,
    MAX_CANDIDATES,
    AmbiguousCompany,
    Candidate,
    find_companies,
    resolve_company,
)
