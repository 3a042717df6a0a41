"""Paired families: reading the inputs of a pairing (two MSAs or one concatenated MSA, taxonomy, context, known pairs).

Interacting paralogs (e.g. histidine kinases and response regulators, MalG
and MalK) are paired *within* each species.  :func:`read_paired_families` is
what ``protlm pair`` and ``protlm train-pair-model`` read their inputs with;
it builds a :class:`PairedFamilies` (:mod:`protlm.io.families`) and checks
known pairs with the one validator (:func:`protlm.io.pairs.read_pairs_file`).
The species blocks, context pairs and pairs files live in
:mod:`protlm.io.families`, :mod:`protlm.io.context` and :mod:`protlm.io.pairs`;
their names are re-exported here.
"""

from __future__ import annotations

import os

from protlm.errors import PairingInputError
from protlm.io.context import ContextPairs, read_context
from protlm.io.families import PairedFamilies, SpeciesBlock
from protlm.io.pairs import PAIRS_HEADER, read_pairs_file  # noqa: F401  (re-exported)

__all__ = ["SpeciesBlock", "ContextPairs", "PairedFamilies", "read_paired_families", "read_context",
           "check_paired_layout"]


def check_paired_layout(right, split_at) -> None:
    """Refuse, before any work, anything but two MSAs or one MSA with ``split_at``.

    Parameters
    ----------
    right : path, handle or None
        The right family's MSA, or ``None`` when the left one is the concatenation.
    split_at : int or None
        The column that splits a concatenated MSA.

    Raises
    ------
    PairingInputError
        Unless exactly one of ``right`` and ``split_at`` is given.

    Examples
    --------
    >>> check_paired_layout("right.a3m", None)
    >>> check_paired_layout(None, None)
    Traceback (most recent call last):
    ...
    protlm.errors.PairingInputError: give either LEFT and RIGHT, or one concatenated MSA with --split-at
    """
    if (right is None) == (split_at is None):
        raise PairingInputError("give either LEFT and RIGHT, or one concatenated MSA with --split-at")


def read_paired_families(left, right=None, *, split_at=None, species_key="auto", truth=None, exclude=None,
                         taxonomy=None, context=None, context_pairs=None, known_pairs=None, max_rows=None,
                         query=(0, 0)):
    """Read two MSAs, or one concatenated MSA split at a column, into :class:`PairedFamilies`.

    Parameters
    ----------
    left, right : path or handle
        The two families' MSAs; ``right`` is ``None`` when ``left`` is their concatenation.
    split_at : int, optional
        With one concatenated MSA: the left chain is its first ``split_at`` columns.
    species_key, truth, exclude
        As in :meth:`PairedFamilies.from_msas`.
    taxonomy : path, handle or list of them, optional
        Taxonomy sources (:func:`protlm.io.taxonomy.read_taxonomy`), streamed
        once for the ids of the MSAs.  A row's species is its taxon there, else
        what ``species_key`` finds in its header; rows with neither are
        counted (``n_no_key_*``) and stay unpaired.  The counts are in
        :attr:`PairedFamilies.taxonomy`.
    context : (path, path), optional
        Context MSAs (:func:`read_context`), same columns as the two families;
        row *i* pairs with row *i* unless ``context_pairs`` names a pairs TSV.
        Stored as :attr:`PairedFamilies.context`.
    known_pairs : path, optional
        A TSV ``left_id<TAB>right_id`` of pairs fixed inside the input, each
        within one shared species; stored as :attr:`PairedFamilies.known_pairs`.
    max_rows : int, optional
        :meth:`PairedFamilies.cap_rows` with ``query`` (rows of the queries).

    Raises
    ------
    PairingInputError
        Unless exactly one of ``right`` and ``split_at`` is given.
    TaxonomyFormatError
        A malformed taxonomy source.

    Examples
    --------
    >>> import io
    >>> left = io.StringIO(">101\\nMKV\\n>UniRef100_P1\\tscore\\nMKI\\n>UPI0001\\nMRV\\n")
    >>> right = io.StringIO(">102\\nAC\\n>UniRef100_Q1\\nAD\\n")
    >>> tax = io.StringIO("P1\\t562\\nQ1\\t562\\n")
    >>> pf = read_paired_families(left, right, taxonomy=[tax])
    >>> pf.blocks[0], pf.taxonomy["left"]
    (SpeciesBlock(species='562', n_left=1, n_right=1), {'n_rows': 3, 'n_from_taxonomy': 1, 'n_from_header': 0, 'n_without_species': 2})
    """
    from dataclasses import replace

    from protlm.io.general import read_msa

    check_paired_layout(right, split_at)
    msas = [read_msa(left)] + ([read_msa(right)] if right is not None else [])
    coverage = None
    if taxonomy is not None:
        from protlm.io.taxonomy import read_taxonomy

        tax = read_taxonomy(taxonomy, ids=[i for m in msas for i in m.ids])
        sides = ("left", "right") if right is not None else ("rows",)
        coverage = {side: tax.coverage(m.ids, m.descriptions, species_key) for side, m in zip(sides, msas)}
        coverage.update(tax.summary())
        species_key = tax.species_key(fallback=species_key)
    if right is None:
        paired = PairedFamilies.from_concatenated(
            msas[0], split_at=split_at, species_key=species_key, truth=truth, exclude=exclude
        )
    else:
        paired = PairedFamilies.from_msas(msas[0], msas[1], species_key=species_key, truth=truth, exclude=exclude)
    if context_pairs is not None and context is None:
        raise PairingInputError("--context-pairs names the pairs of context MSAs: give them with --context CTX_LEFT CTX_RIGHT")
    extra = {}
    if coverage is not None:
        extra["taxonomy"] = coverage
    if context is not None:
        ctx = read_context(context[0], context[1], pairs=context_pairs)
        ctx.check_columns(paired.left.n_columns, paired.right.n_columns,
                          names=tuple(os.fspath(c) if isinstance(c, (str, os.PathLike)) else "context" for c in context))
        extra["context"] = ctx
    if known_pairs is not None:
        extra["known_pairs"] = read_pairs_file(known_pairs, left_ids=paired.left.ids, right_ids=paired.right.ids,
                                               blocks=paired.blocks, same_block=True, what="known pair")
    if extra:
        paired = replace(paired, **extra)
    if max_rows is not None:
        paired = paired.cap_rows(max_rows, query=query)
    return paired
