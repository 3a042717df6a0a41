"""Rewrite the metadata of the shipped sequencer so that it describes that model (issue 13, item 4).

The file was exported by the second of two training stages.  That stage was
started with ``--init`` from the first stage's best weights, so its recorded
``training_config`` carried the CLI's default *shape* options (a 4-layer
transformer of width 128) that were never used: ``--init`` keeps the model it
starts from.  This script keeps the weights and every measured value, and
writes the architecture that loads, plus both stages with their commands.
The commands are those in README "Training and the shipped model".

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
DATA = "../shared/data/proteomes"
INPUTS = f"{DATA}/ecoli_k12_UP000000625.fasta {DATA}/uniprot_sample_20k.fasta.gz"
STAGE1 = (f"protlm train-sequencer {INPUTS} -o runs/sequencer --arch conv --d-model 96 --layers 10 "
          "--kernel-size 9 --max-len 512 --batch-size 32 --lr 2e-3 --warmup-steps 300 --max-steps 7000 "
          "--max-minutes 70 --eval-every 250 --patience 6 --threads 2 --seed 0")
STAGE2 = (f"protlm train-sequencer {INPUTS} -o runs/sequencer_ft --init runs/sequencer/best.pt "
          "--fragment-fraction 0.3 --max-len 512 --batch-size 32 --lr 5e-4 --warmup-steps 50 --max-steps 2000 "
          "--max-minutes 25 --eval-every 200 --patience 100 --threads 2 --seed 0 "
          "--export protlm/models/weights/sequencer_default.pt")


def rewrite(obj: dict) -> dict:
    meta = dict(obj["metadata"])
    if "stages" in meta:  # already rewritten
        return obj
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
