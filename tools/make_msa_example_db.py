"""Make the bundled example of the ``complexes`` workflow: two E. coli queries and a small UniProt database.

Writes (deterministically; run from the repository root with the project's shared folder beside it)::

    python tools/make_msa_example_db.py

* ``data/envz_ompr.fasta``: EnvZ (P0AEJ4, a HisKA histidine kinase) and OmpR
  (P0AA16, its Response_reg partner), copied from the E. coli K-12 proteome.
* ``data/hk_rr_uniprot.fasta.gz``: every homolog of either query that
  ``protlm msa`` finds (jackhmmer, 3 iterations, E <= 1e-3) in the E. coli
  proteome (the two queries left out) and in the 20k UniProt sample, plus
  background records drawn at random (seed 0) from both files, in file order.
  Records are copied unchanged (header and sequence; sequence lines 60 wide).

Both sources are UniProt, CC BY 4.0 (credited in data/README.md).
"""

from __future__ import annotations

import gzip
import io
import random
from pathlib import Path

from protlm.io.fasta import iter_fasta, write_fasta
from protlm.search import build_msa

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data" / "proteomes"
ECOLI = SHARED / "ecoli_k12_UP000000625.fasta"
SAMPLE = SHARED / "uniprot_sample_20k.fasta.gz"
QUERIES = ("sp|P0AEJ4|ENVZ_ECOLI", "sp|P0AA16|OMPR_ECOLI")
BACKGROUND = {ECOLI: 400, SAMPLE: 1600}


def main() -> None:
    ecoli = {r.id: r for r in iter_fasta(ECOLI)}
    queries = [ecoli[q] for q in QUERIES]
    write_fasta(queries, ROOT / "data" / "envz_ompr.fasta", width=60)
    chosen = []
    rng = random.Random(0)
    for source, n_background in BACKGROUND.items():
        records = [r for r in iter_fasta(source) if r.id not in QUERIES]
        hits = set()
        for q in queries:
            hits |= {h.id for h in build_msa(q, source, iterations=3, evalue=1e-3).hits}
        others = [i for i, r in enumerate(records) if r.id not in hits]
        keep = set(rng.sample(others, n_background)) | {i for i, r in enumerate(records) if r.id in hits}
        chosen += [records[i] for i in sorted(keep)]
        print(f"{source.name}: {len(hits)} homologs + {n_background} background records")
    text = io.StringIO()
    write_fasta(chosen, text, width=60)
    with open(ROOT / "data" / "hk_rr_uniprot.fasta.gz", "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0,
                                                                                   filename="") as fh:
        fh.write(text.getvalue().encode())
    print(f"wrote {len(chosen)} records to data/hk_rr_uniprot.fasta.gz")


if __name__ == "__main__":
    main()
