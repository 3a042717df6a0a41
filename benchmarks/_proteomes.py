"""The proteomes the sequencing benchmarks read, split as a sequencer model was trained.

``../shared/data/proteomes`` (E. coli K-12 reference proteome and the 20k
UniProt sample, CC BY 4.0; read by benchmarks, never shipped).
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DATA = ROOT.parent / "shared" / "data" / "proteomes"
ECOLI = DATA / "ecoli_k12_UP000000625.fasta"
SAMPLE = DATA / "uniprot_sample_20k.fasta.gz"
RESULTS = ROOT / "benchmarks" / "results"


def load_model_split(metadata: dict):
    """``(ids, sequences, split)``: both files read and split exactly as the model whose metadata this is
    (recomputed and checked against the recorded digests)."""
    from protlm.sequencing.proteins import load_proteins
    from protlm.sequencing.split import reproduce_split

    ids, seqs, _ = load_proteins([ECOLI, SAMPLE])
    return ids, seqs, reproduce_split(ids, seqs, metadata["split"])
