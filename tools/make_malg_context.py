"""Write data/malg_context.fasta.gz and data/malk_context.fasta.gz: the MalG-MalK pairs of the training species.

    python tools/make_malg_context.py

The pairing benchmark splits the MalG-MalK species into training and test species
(``protlm.pairing.sampling.split_species``, test fraction 0.2, seed 0: ``benchmarks/pairing.py``'s
``SPLIT``).  The demo pairs ``data/malg_example.fasta`` / ``malk_example.fasta``, whose 7 species are
test species, and its context entry uses the training species' pairs, which are the pairs the shipped
demo model was trained on.  Records are copied unchanged from ``tests/data/pairing/{malg,malk}.fasta``
(Bitbol-Lab/DiffPALM ``nbs/data/MALG-MALK``, Apache-2.0; row *i* of one pairs with row *i* of the
other), in input order, gzipped with ``gzip -n -9`` semantics (no name, no time: reproducible bytes).
"""

from __future__ import annotations

import gzip
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from protlm.pairing.sampling import split_species  # noqa: E402

SPLIT = {"test_fraction": 0.2, "seed": 0}  # benchmarks/pairing.py SPLIT


def records(path: Path) -> list[str]:
    text = path.read_text()
    return [">" + r for r in text.split(">")[1:]]


def main() -> None:
    left = records(ROOT / "tests" / "data" / "pairing" / "malg.fasta")
    right = records(ROOT / "tests" / "data" / "pairing" / "malk.fasta")
    if len(left) != len(right):
        raise SystemExit("malg.fasta and malk.fasta must pair row i with row i")
    species = [r.split("\n", 1)[0].split()[0].rsplit("_", 1)[1] for r in left]
    train, _test = split_species(list(dict.fromkeys(species)), **SPLIT)
    keep = set(train)
    for name, recs in (("malg_context", left), ("malk_context", right)):
        body = "".join(r for r, s in zip(recs, species) if s in keep).encode()
        out = ROOT / "data" / f"{name}.fasta.gz"
        with open(out, "wb") as fh, gzip.GzipFile(filename="", mode="wb", compresslevel=9, fileobj=fh, mtime=0) as gz:
            gz.write(body)
        print(f"{out.relative_to(ROOT)}: {sum(s in keep for s in species)} records of {len(keep)} species")


if __name__ == "__main__":
    main()
