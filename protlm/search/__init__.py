"""Build MSAs from sequence databases (torch-free): query sequence -> homologs -> A3M with species.

:func:`build_msa` searches a UniProtKB or UniRef FASTA (streamed through
:mod:`protlm.io`'s readers) with a maintained engine, pyhmmer (HMMER's
phmmer/jackhmmer) or MMseqs2, and returns an :class:`MSASearchResult` whose
``.write(path)`` writes the A3M that ``protlm pair`` reads: query first,
insertions lowercase, each hit's header carrying its accession and, when the
database has it, its taxonomy (``OX=`` / ``TaxID=``).
"""

from protlm.search.database import DatabaseRecord, database_kind, iter_database, parse_database_header
from protlm.search.msa import DEFAULTS, ENGINES, build_msa, read_query
from protlm.search.result import HIT_COLUMNS, MSASearchResult, SearchHit

__all__ = [
    "build_msa",
    "read_query",
    "ENGINES",
    "DEFAULTS",
    "MSASearchResult",
    "SearchHit",
    "HIT_COLUMNS",
    "DatabaseRecord",
    "database_kind",
    "iter_database",
    "parse_database_header",
]
