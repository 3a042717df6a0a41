"""Loading the HK-RR pairing data sets the way the MI-IPA and DiffPaSS papers use them.

``hkrr_standard.fasta`` / ``hkrr_standard_575.fasta`` (GPL-3.0, read from
``../shared/data/pairing``, never shipped): each record is one true HK-RR pair,
HisKA in columns 1-64 and Response_reg in 65-176; species = second ``|`` field
of the header.  The first record (``FirstSeq``) duplicates the next one and the
last is a ``_DUMMY``: both are dropped.  Species with a single pair are dropped,
and the RR rows are shuffled within species with a recorded seed (the files list
true pairs in input order).
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DATA = ROOT.parent / "shared" / "data" / "pairing"


def load_hkrr(name: str, *, seed: int, data_dir=DATA):
    """Shuffled :class:`protlm.io.PairedFamilies` of an HK-RR file (species with >= 2 pairs) in ``data_dir``."""
    from protlm.io import PairedFamilies, read_msa
    from protlm.pairing.shuffling import keep_species, shuffle_within_species

    msa = read_msa(Path(data_dir) / name)
    if not msa.ids[0].startswith("FirstSeq") or "_DUMMY" not in msa.descriptions[-1]:
        raise SystemExit(f"{name}: expected a FirstSeq first record and a _DUMMY last record")
    paired = PairedFamilies.from_concatenated(msa[1:-1], split_at=64, species_key="field:|:2", truth="same-order")
    return shuffle_within_species(keep_species(paired, min_pairs=2), seed=seed)
