"""Species keys: which species (or taxon) a sequence comes from.

Pairing interacting paralogs happens *within* species, so every row of an
MSA needs a key.  A key function takes ``(id, description)`` and returns a
string or ``None`` (no key found).  :func:`species_key` builds one from a
specification:

``"auto"``
    The first that matches: UniRef ``TaxID=``, UniProt ``OX=``, an HK-RR
    header (``...|Species|Pair_...``: the second ``|`` field), a MalG/MalK
    identifier (``ACC_ACC_k_TaxID``: the last ``_`` field).  UniRef, UniProt
    and MalG/MalK keys are all NCBI TaxIDs, so they compare across files.
``"taxid"`` / ``"ox"`` / ``"os"``
    UniRef ``TaxID=``, UniProt ``OX=``, UniProt ``OS=`` (organism name).
``"field:SEP:N"``
    The N-th field (1-based; negative counts from the end) of the identifier
    split at ``SEP``: ``"field:|:2"`` for HK-RR, ``"field:_:-1"`` for MalG/MalK.
``"regex:PATTERN"``
    The first group of ``PATTERN`` searched in the description (the whole
    header line), or the whole match if it has no group.
a callable
    Used as is.
"""

from __future__ import annotations

import re
from typing import Callable, Iterable, Optional

from protlm.errors import SpeciesKeyError

__all__ = ["species_key", "apply_species_key", "SPECIES_KEY_CHOICES"]

KeyFunc = Callable[[str, str], Optional[str]]

SPECIES_KEY_CHOICES = ("auto", "taxid", "ox", "os", "field:SEP:N", "regex:PATTERN")

_TAXID = re.compile(r"(?:^|\s)TaxID=(\d+)")
_OX = re.compile(r"(?:^|\s)OX=(\d+)")
_OS = re.compile(r"(?:^|\s)OS=(.+?)(?=\s+[A-Z]{2}=|$)")
# HK-RR: HKid_HK_Class|Species|Pair_RRid|...
_HKRR = re.compile(r"^[^|\s]+\|([^|\s]+)\|Pair_")
# MalG/MalK: two UniProt accessions, a counter and an NCBI TaxID.
_MALGK = re.compile(r"^[A-Z0-9]{6,10}_[A-Z0-9]{6,10}_\d+_(\d+)$")


def _taxid(id_, description):
    m = _TAXID.search(description)
    return m.group(1) if m else None


def _ox(id_, description):
    m = _OX.search(description)
    return m.group(1) if m else None


def _os(id_, description):
    m = _OS.search(description)
    return m.group(1).strip() if m else None


def _auto(id_, description):
    m = _TAXID.search(description) or _OX.search(description)
    if m:
        return m.group(1)
    m = _HKRR.match(id_) or _MALGK.match(id_)
    return m.group(1) if m else None


_NAMED = {"auto": _auto, "taxid": _taxid, "ox": _ox, "os": _os}


def species_key(spec) -> KeyFunc:
    """Build a key function ``(id, description) -> str | None`` from ``spec``.

    Parameters
    ----------
    spec : str or callable
        See the module documentation for the choices.

    Returns
    -------
    callable

    Raises
    ------
    SpeciesKeyError
        If ``spec`` is not one of the choices or its regex does not compile.

    Examples
    --------
    >>> species_key("auto")("UniRef90_X", "UniRef90_X name n=2 Tax=E. coli TaxID=562 RepID=X_ECOLI")
    '562'
    >>> species_key("field:|:2")("HK1|Escherichia_coli|Pair_RR1|HisKA", "")
    'Escherichia_coli'
    >>> species_key("field:_:-1")("P1_Q1_1_83333", "")
    '83333'
    >>> species_key("regex:OS=(\\\\w+)")("a", "a OS=Homo sapiens")
    'Homo'
    >>> species_key("auto")("nothing", "nothing here") is None
    True
    """
    if callable(spec):
        return spec
    if not isinstance(spec, str):
        raise SpeciesKeyError(f"species key must be a string or a callable, not {type(spec).__name__}")
    if spec in _NAMED:
        return _NAMED[spec]
    if spec.startswith("field:"):
        rest = spec[len("field:") :]
        sep, _, num = rest.rpartition(":")
        try:
            n = int(num)
        except ValueError:
            n = 0
        if not sep or n == 0:
            raise SpeciesKeyError(
                f"bad species key {spec!r}: expected field:SEP:N with N a non-zero integer, e.g. 'field:|:2' or 'field:_:-1'"
            )
        idx = n - 1 if n > 0 else n

        def _field(id_, description, _sep=sep, _idx=idx):
            parts = id_.split(_sep)
            if len(parts) < 2:
                return None
            try:
                value = parts[_idx]
            except IndexError:
                return None
            return value or None

        return _field
    if spec.startswith("regex:"):
        pattern = spec[len("regex:") :]
        try:
            rx = re.compile(pattern)
        except re.error as exc:
            raise SpeciesKeyError(f"bad species key {spec!r}: regex does not compile ({exc})") from None

        def _regex(id_, description, _rx=rx):
            m = _rx.search(description or id_)
            if not m:
                return None
            return (m.group(1) if _rx.groups else m.group(0)) or None

        return _regex
    raise SpeciesKeyError(f"unknown species key {spec!r}; choose one of: {', '.join(SPECIES_KEY_CHOICES)} or a callable")


def apply_species_key(spec, ids: Iterable[str], descriptions: Iterable[str]) -> tuple:
    """Apply ``spec`` to every row; returns a tuple of keys (``None`` where none was found).

    Parameters
    ----------
    spec : str or callable
        A species key (see :func:`species_key`).
    ids, descriptions : iterable of str
        The rows' identifiers and full header lines, in the same order.

    Examples
    --------
    >>> apply_species_key("ox", ["a", "b"], ["a OX=9606", "b"])
    ('9606', None)
    """
    fn = species_key(spec)
    return tuple(fn(i, d) for i, d in zip(ids, descriptions))
