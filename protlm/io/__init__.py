"""Torch-free readers and writers: FASTA, A3M, Stockholm, Clustal, UniProt/UniRef, the MSA object.

Every reader takes a path, a text or binary handle, or ``"-"`` (stdin), and
detects gzip/bz2 from the first bytes.  ``iter_*`` functions stream in
constant memory; ``read_*`` functions return a list or an :class:`MSA`.
Malformed input raises a :class:`protlm.errors.FormatError` subclass naming
file, record and 1-based line.
"""

from protlm.io._open import display_name, open_text
from protlm.io.a3m import iter_a3m, read_a3m, write_a3m
from protlm.io.atomic import atomic_write, prepare_outdir
from protlm.io.clustal import read_clustal
from protlm.io.fasta import FastaRecord, iter_fasta, read_fasta, write_fasta
from protlm.io.general import detect_format, read_msa
from protlm.io.msa import MSA
from protlm.io.context import ContextPairs, read_context
from protlm.io.families import PairedFamilies, SpeciesBlock
from protlm.io.paired import check_paired_layout, read_paired_families
from protlm.io.species import apply_species_key, species_key
from protlm.io.stockholm import iter_stockholm, read_stockholm
from protlm.io.uniprot import UniProtHeader, UniProtRecord, iter_uniprot, parse_uniprot_header, read_uniprot
from protlm.io.uniref import (
    UniRefEntry,
    UniRefHeader,
    UniRefMember,
    UniRefRecord,
    iter_uniref,
    iter_uniref_xml,
    parse_uniref_header,
    read_uniref_xml,
)

__all__ = [
    "open_text",
    "display_name",
    "atomic_write",
    "prepare_outdir",
    "FastaRecord",
    "iter_fasta",
    "read_fasta",
    "write_fasta",
    "iter_a3m",
    "read_a3m",
    "write_a3m",
    "iter_stockholm",
    "read_stockholm",
    "read_clustal",
    "MSA",
    "detect_format",
    "read_msa",
    "species_key",
    "apply_species_key",
    "SpeciesBlock",
    "ContextPairs",
    "PairedFamilies",
    "read_context",
    "read_paired_families",
    "check_paired_layout",
    "UniProtHeader",
    "UniProtRecord",
    "parse_uniprot_header",
    "iter_uniprot",
    "read_uniprot",
    "UniRefHeader",
    "UniRefRecord",
    "UniRefMember",
    "UniRefEntry",
    "parse_uniref_header",
    "iter_uniref",
    "iter_uniref_xml",
    "read_uniref_xml",
]
