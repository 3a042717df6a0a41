"""Rewrite the metadata of the shipped sequencer so that it describes that model (issue 13, item 4).

The file was exported by the second of two training stages.  That stage was
started with ``--init`` from the first stage's best weights, so its recorded
``training_config`` carried the CLI's default *shape* options (a 4-layer
transformer of width 128) that were never used: ``--init`` keeps the model it
starts from.  This script keeps the weights and every measured value, and
writes the architecture that loads, plus both stages with their commands.
The commands are those in README "Training and the shipped model".

The stages ran on ``../shared/data/proteomes``, a folder a user's clone does not have.  The
commands therefore name the data folder ``$P``, and ``input_files`` records how to make it from what
a user can get: the bundled ``data/ecoli_k12_UP000000625.fasta.gz`` gunzipped, and the MMseqs2
example database of the Debian package ``mmseqs2-examples``.  Each file carries its SHA-256, which
matches the file the stages read byte for byte.

One command (idempotent; the weights tensors are not touched)::

    python tools/rewrite_sequencer_metadata.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch

from protlm.sequencing.training import SHAPE_OPTIONS

ROOT = Path(__file__).resolve().parents[1]
PATH = ROOT / "protlm" / "models" / "weights" / "sequencer_default.pt"
RAN_ON = "../shared/data/proteomes"  # where the stages read their inputs; named $P in the recorded commands
DATA = "$P"
INPUTS = f"{DATA}/ecoli_k12_UP000000625.fasta {DATA}/uniprot_sample_20k.fasta.gz"
#: How to make $P: each training input, where a user gets it, and its SHA-256 (that of the file the stages read).
INPUT_FILES = {
    "ecoli_k12_UP000000625.fasta": {
        "make": "gunzip -c data/ecoli_k12_UP000000625.fasta.gz > $P/ecoli_k12_UP000000625.fasta",
        "source": "UniProt reference proteome UP000000625 (E. coli K-12), CC BY 4.0; bundled in data/",
        "sha256": "078da04341fca0471f0ed20e44846958d3b6c77ebea794ceabaf64d84a925f15"},
    "uniprot_sample_20k.fasta.gz": {
        "make": "apt-get install mmseqs2-examples && "
                "cp /usr/share/doc/mmseqs2/example-data/DB.fasta.gz $P/uniprot_sample_20k.fasta.gz",
        "source": "20,000 UniProtKB sequences, CC BY 4.0: the MMseqs2 example database (Debian mmseqs2-examples)",
        "sha256": "92a65aa435f5d3e0f33eb47d87910fe7fc6033a28bf4ed1367094377d791d567"},
}
STAGE1 = (f"protlm train-sequencer {INPUTS} -o runs/sequencer --arch conv --d-model 96 --layers 10 "
          "--kernel-size 9 --max-len 512 --batch-size 32 --lr 2e-3 --warmup-steps 300 --max-steps 7000 "
          "--max-minutes 70 --eval-every 250 --patience 6 --threads 2 --seed 0")
STAGE2 = (f"protlm train-sequencer {INPUTS} -o runs/sequencer_ft --init runs/sequencer/best.pt "
          "--fragment-fraction 0.3 --max-len 512 --batch-size 32 --lr 5e-4 --warmup-steps 50 --max-steps 2000 "
          "--max-minutes 25 --eval-every 200 --patience 100 --threads 2 --seed 0 "
          "--export protlm/models/weights/sequencer_default.pt")


def rewrite(obj: dict) -> dict:
    meta = dict(obj["metadata"])
    if "stages" in meta:  # rewritten before: only the data folder's name and the inputs may be left to do
        return _inputs(obj)
    init = meta.pop("init")
    second = {k: v for k, v in meta.pop("training_config").items() if k not in SHAPE_OPTIONS}
    meta["architecture"] = dict(obj["config"])
    meta["stages"] = [
        {"name": "whole-protein windows", "command": STAGE1, "training_config": init["training_config"],
         "stopped_at_step": init["step"], "valid_loss": init["valid_loss"]},
        {"name": "30 % peptide windows, trained on from stage 1 (--init keeps its architecture)",
         "command": STAGE2, "training_config": second,
         "stopped_at_step": meta.pop("step"), "valid_loss": meta["valid_loss"]},
    ]
    meta["rewritten_by"] = "python tools/rewrite_sequencer_metadata.py"
    return _inputs({**obj, "metadata": meta})


def _inputs(obj: dict) -> dict:
    """The stages' commands with the data folder as ``$P``, and ``input_files`` saying how to make it."""
    meta = dict(obj["metadata"])
    if meta.get("input_files") == {"P": "the folder of the files below", "files": INPUT_FILES}:
        return obj
    meta["stages"] = [{**st, "command": st["command"].replace(RAN_ON, DATA)} for st in meta["stages"]]
    meta["input_files"] = {"P": "the folder of the files below", "files": INPUT_FILES}
    return {**obj, "metadata": meta}


def main() -> int:
    from protlm.io.atomic import atomic_write

    obj = torch.load(PATH, map_location="cpu", weights_only=True)
    new = rewrite(obj)
    if new is obj:
        print(f"{PATH.relative_to(ROOT)}: metadata already rewritten")
        return 0
    with atomic_write(PATH, "wb") as fh:
        torch.save(new, fh)
    print(f"{PATH.relative_to(ROOT)}: metadata rewritten ({len(new['metadata']['stages'])} stages)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
