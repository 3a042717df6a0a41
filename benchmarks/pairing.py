"""Pairing benchmark: DiffPALM with a family-trained MSA Transformer against MI-IPA and random.

Protocol (DiffPALM paper, Lupo, Sgarbossa & Bitbol, PNAS 2024):

* species are split into training and test species with a recorded seed; the
  family model is trained (``protlm.pairing.training``) on training species only;
* from the test species, samples of about 50 sequences (45-55) are drawn, made
  of whole species holding 2-100 sequences each; each sample is shuffled within
  species with its own seed;
* on the same samples: ``diffpalm_family`` (DiffPALM with the family model),
  ``diffpalm_family_context`` (the same with the training pairs as context rows,
  :data:`DIFFPALM_CONTEXT_ROWS` of them, those most alike the sample),
  ``mi_ipa_trained`` (MI-IPA given all training pairs as known pairs),
  ``mi_ipa`` (no known pairs) and ``random``;
* precision = correct pairs / sequences paired; random expectation = species / sequences.

Datasets: MalG-MalK (``../shared/data/pairing/malg.fasta`` + ``malk.fasta``,
Apache-2.0) and HK-RR (``../shared/data/pairing/hkrr_standard.fasta`` split at
column 64, GPL-3.0: its model is only a benchmark artefact, never shipped).

Everything is cached under ``--cache`` (trained models, per-sample results), so
a rerun resumes.  One command::

    python benchmarks/pairing.py

writes ``benchmarks/results/pairing.json``, ``pairing.png`` and prints a table.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from _provenance import Clock, code_digest, provenance  # noqa: E402

from protlm.pairing.sampling import sample_depth_window, split_species  # noqa: E402

log = logging.getLogger("benchmarks.pairing")

DATA = ROOT.parent / "shared" / "data" / "pairing"
RESULTS = ROOT / "benchmarks" / "results"
# Cache keys hold a digest of the code that computes the cached values: any change to the pairing,
# model or reader code (or to this script) recomputes them; the model code alone keys the trained models.
CODE = code_digest(ROOT / "protlm" / "pairing", ROOT / "protlm" / "models", ROOT / "protlm" / "io", Path(__file__))
MODEL_CODE = code_digest(ROOT / "protlm" / "pairing" / "training.py", ROOT / "protlm" / "models")
METHODS = ("diffpalm_family", "diffpalm_family_context", "mi_ipa_trained", "mi_ipa", "entropy_bootstrap", "diffpass",
           "random")
#: diffpalm_family_context: DiffPALM with the family model and the training species' pairs as context rows, cut
#: to the DIFFPALM_CONTEXT_ROWS pairs most alike each sample (protlm.pairing.homology.select_context_pairs): all
#: ~4,000 would make every forward pass 80 times deeper than the 50-row sample.  A compute choice, not tuned.
DIFFPALM_CONTEXT_ROWS = 100
# --context-table: the weights-free methods with and without the training species' pairs as context
# (protlm.io.ContextPairs through each method's context= keyword), same samples and seeds; DiffPALM with
# context needs the trained family models and is not in this table.  mi_ipa_context is MI-IPA with its default
# homology transfer from the context pairs (protlm.pairing.homology); mi_ipa_context_pmi the same with
# homology_weight=0 (MI-IPA as published: the context's PMI alone), the in-run baseline.
CONTEXT_METHODS = ("mi_ipa_context", "mi_ipa_context_pmi", "entropy_bootstrap_context", "mi_ipa", "entropy_bootstrap",
                   "diffpass", "random")

# The settings of the committed run (see the README section "Pairing benchmark").
TRAINING = {
    "layers": 4,
    "embed_dim": 64,
    "attention_heads": 4,
    "depth": 32,
    "steps": 1000,  # per dataset: see TRAIN_STEPS
    "lr": 1e-3,
    "warmup": 100,
    "val_every": 100,
    "val_msas": 6,
    "patience": 6,
    "seed": 0,
}
# Steps sized to about an hour on the shared 2-core CPU (a MalG-MalK row is 320 tokens, HK-RR 177).
TRAIN_STEPS = {"malg-malk": 800, "hkrr": 1000}
SPLIT = {"test_fraction": 0.2, "seed": 0}


def load_dataset(name: str):
    """The :class:`~protlm.io.PairedFamilies` of a benchmark dataset, true pairs in ``truth``."""
    from protlm.io import PairedFamilies, read_msa

    if name == "malg-malk":
        return PairedFamilies.from_msas(
            read_msa(DATA / "malg.fasta"), read_msa(DATA / "malk.fasta"), species_key="field:_:-1", truth="same-order"
        )
    if name == "hkrr":
        msa = read_msa(DATA / "hkrr_standard.fasta")
        if not msa.ids[0].startswith("FirstSeq") or "_DUMMY" not in msa.ids[-1]:
            raise SystemExit("hkrr_standard.fasta: expected a FirstSeq first record and a _DUMMY last record")
        msa = msa[1:-1]  # drop the placeholder first record and the dummy last record
        return PairedFamilies.from_concatenated(msa, split_at=64, species_key="field:|:2", truth="same-order")
    raise SystemExit(f"unknown dataset {name!r}; choose malg-malk or hkrr")


def split_dataset(paired):
    """Training and test species of a dataset (seeded)."""
    return split_species([b.species for b in paired.blocks], **SPLIT)


def train_family_model(name: str, cache: Path, *, steps: int | None = None):
    """Train (or resume) the family model of ``name`` on its training species; returns the TrainingResult."""
    from esm.data import Alphabet

    from protlm.pairing.mlm import pair_tokens
    from protlm.pairing.training import TrainingConfig, train_pair_model

    paired = load_dataset(name)
    train_species, _test = split_dataset(paired)
    tokens, species = pair_tokens(paired, Alphabet.from_architecture("msa_transformer"))
    keep = set(train_species)
    rows = np.array([i for i, s in enumerate(species) if s in keep])
    settings = dict(TRAINING, steps=TRAIN_STEPS[name])
    if steps is not None:
        settings["steps"] = steps
    config = TrainingConfig(**settings)
    return train_pair_model(
        tokens[rows], [species[i] for i in rows], cache / name / f"model-{MODEL_CODE}", split_at=paired.left.n_columns,
        config=config, device="auto",
    )


SAMPLING = {"depth": 50, "tolerance": 0.1, "min_size": 2, "max_size": 100, "seed": 0}


def draw_samples(paired, test_species, *, n_samples: int):
    """Test samples: lists of whole test species, 45-55 sequences each (species of 2-100 sequences)."""
    test = set(test_species)
    sizes = {b.species: min(b.n_left, b.n_right) for b in paired.blocks if b.species in test}
    return sample_depth_window(sizes, n_samples=n_samples, **SAMPLING)


def sample_families(paired, species, *, seed):
    """The PairedFamilies of one sample, right rows shuffled within each species; truth = the true pairing.

    Also returns the original (left, right) rows of the sample's pairs, for scoring outside it.
    """
    from dataclasses import replace

    from protlm.io import PairedFamilies

    rng = np.random.default_rng(seed)
    by_species = {b.species: b for b in paired.blocks}
    rows_l, rows_r = [], []
    for s in species:
        b = by_species[s]
        lefts = [int(l) for l in b.left if int(l) in paired.truth]
        rights = [paired.truth[l] for l in lefts]
        rows_l.extend(lefts)
        rows_r.extend(rng.permutation(rights).tolist())
    left, right = paired.left[rows_l], paired.right[rows_r]
    sub = PairedFamilies.from_msas(left, right, species_key=None)
    position = {r: i for i, r in enumerate(rows_r)}
    truth = {i: position[paired.truth[l]] for i, l in enumerate(rows_l)}
    return replace(sub, truth=truth), np.array(rows_l), np.array(rows_r)


def run_method(method, sub, *, seed, model=None, alphabet=None, train_pairs=None, paired=None, steps=100):
    """Precision of one method on one sample (and its wall time)."""
    t0 = time.perf_counter()
    if method == "diffpalm_family":
        from protlm.pairing.diffpalm import pair_diffpalm

        result = pair_diffpalm(sub, model=model, alphabet=alphabet, steps=steps, runs=1, seed=seed, device="auto")
        precision = result.precision(sub.truth)
        extra = {"loss_first": result.history["loss"][0], "loss_last": result.history["loss"][-1],
                 "precision_trace": result.history.get("precision")}
    elif method == "diffpalm_family_context":
        from protlm.io import ContextPairs
        from protlm.pairing.diffpalm import pair_diffpalm

        tl, tr = train_pairs
        context = ContextPairs.from_msas(paired.left[tl], paired.right[tr])
        result = pair_diffpalm(sub, model=model, alphabet=alphabet, steps=steps, runs=1, seed=seed, device="auto",
                               context=context, max_context_rows=DIFFPALM_CONTEXT_ROWS)
        precision = result.precision(sub.truth)
        extra = {"loss_first": result.history["loss"][0], "loss_last": result.history["loss"][-1],
                 "n_context_rows": result.info["n_context_rows"], "context_pairs_given": context.n_pairs}
    elif method == "mi_ipa":
        from protlm.pairing.mi_ipa import pair_mi_ipa

        precision = pair_mi_ipa(sub, seed=seed).precision(sub.truth)
        extra = {}
    elif method == "mi_ipa_trained":
        from protlm.pairing.mi_ipa import pair_mi_ipa_arrays

        tl, tr = train_pairs
        n = len(tl)
        left = np.concatenate([paired.left.array[tl], sub.left.array])
        right = np.concatenate([paired.right.array[tr], sub.right.array])
        species_l = [paired.left.species[i] for i in tl] + list(sub.left.species)
        species_r = [paired.right.species[i] for i in tr] + list(sub.right.species)
        result = pair_mi_ipa_arrays(left, right, species_l, species_r, known_pairs={i: i for i in range(n)}, seed=seed)
        precision = result.precision({n + l: n + r for l, r in sub.truth.items()})
        extra = {"n_known_pairs": n}
    elif method == "entropy_bootstrap":
        from protlm.pairing.entropy_bootstrap import pair_entropy_bootstrap

        precision = pair_entropy_bootstrap(sub, seed=seed).precision(sub.truth)
        extra = {}
    elif method in ("mi_ipa_context", "mi_ipa_context_pmi", "entropy_bootstrap_context"):
        from protlm.io import ContextPairs
        from protlm.pairing.entropy_bootstrap import pair_entropy_bootstrap
        from protlm.pairing.mi_ipa import pair_mi_ipa

        tl, tr = train_pairs
        context = ContextPairs.from_msas(paired.left[tl], paired.right[tr])  # row i with row i
        if method == "entropy_bootstrap_context":
            result = pair_entropy_bootstrap(sub, context=context, seed=seed)
        else:
            result = pair_mi_ipa(sub, context=context, seed=seed,
                                 **({"homology_weight": 0.0} if method == "mi_ipa_context_pmi" else {}))
        precision = result.precision(sub.truth)
        extra = {"n_context_pairs": context.n_pairs, "routes": result.info["routes"]}
    elif method == "diffpass":
        from protlm.pairing.diffpass import pair_diffpass

        precision = pair_diffpass(sub, seed=seed, device="cpu").precision(sub.truth)
        extra = {}
    elif method == "random":
        from protlm.pairing.random_pairing import pair_random

        precision = pair_random(sub, seed=seed).precision(sub.truth)
        extra = {}
    else:
        raise ValueError(method)
    return {"precision": float(precision), "seconds": time.perf_counter() - t0, **extra}


def _cached(path: Path, compute):
    """The cached JSON value at ``path``, computing it when missing.

    A ``.lock`` file (holding the PID) lets several benchmark processes share
    the work: a value another live process is computing is skipped (``None``).
    """
    import os

    if path.exists():
        return json.loads(path.read_text())
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = path.with_suffix(".lock")
    try:
        fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        try:
            os.kill(int(lock.read_text() or 0), 0)
            return None  # another live process is on it
        except (ProcessLookupError, ValueError):
            lock.unlink(missing_ok=True)  # stale lock of a killed run
            return _cached(path, compute)
    with os.fdopen(fd, "w") as fh:
        fh.write(str(os.getpid()))
    try:
        value = compute()
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(value, indent=1))
        tmp.replace(path)
    finally:
        lock.unlink(missing_ok=True)
    return value


def evaluate_dataset(name: str, cache: Path, *, n_samples: int, steps: int, methods=METHODS, reverse: bool = False):
    """Train (cached), draw the test samples, run every method on each; returns the per-sample records."""
    from esm.data import Alphabet

    from protlm.models.esm_msa import load_msa_transformer
    from protlm.pairing.mlm import pairing_gap

    paired = load_dataset(name)
    train_species, test_species = split_dataset(paired)
    with_model = bool({"diffpalm_family", "diffpalm_family_context"} & set(methods))
    training = model = None
    alphabet = Alphabet.from_architecture("msa_transformer")
    if with_model:
        training = train_family_model(name, cache)
        model, alphabet = load_msa_transformer(training.model_path, device="auto")
    samples = draw_samples(paired, test_species, n_samples=n_samples)
    keep = set(train_species)
    tl = np.array(sorted(l for l, r in paired.truth.items() if paired.left.species[l] in keep))
    tr = np.array([paired.truth[int(l)] for l in tl])
    records = []
    order = range(len(samples) - 1, -1, -1) if reverse else range(len(samples))
    for k in order:
        species = samples[k]
        sub, rows_l, rows_r = sample_families(paired, species, seed=[SAMPLING["seed"], k])
        record = {"sample": k, "species": list(species), "n_sequences": len(rows_l), "n_species": len(species),
                  "random_expected": len(species) / len(rows_l)}
        for method in methods:
            tag = (f"steps{steps}_" if method.startswith("diffpalm_family") else "") + CODE
            value = _cached(
                cache / name / "samples" / f"{k:02d}_{method}_{tag}.json",
                lambda: run_method(method, sub, seed=k, model=model, alphabet=alphabet, train_pairs=(tl, tr),
                                   paired=paired, steps=steps),
            )
            if value is None:
                log.info("%s sample %d %s: another process is computing it; skipped", name, k, method)
                continue
            record[method] = value
            log.info("%s sample %d (%d seqs, %d species) %s: precision %.3f (%.0f s)", name, k, len(rows_l),
                     len(species), method, record[method]["precision"], record[method]["seconds"])

        def gap():
            tokens = np.concatenate([np.full((len(rows_l), 1), alphabet.cls_idx), paired.left.tokenize(alphabet)[rows_l],
                                     paired.right.tokenize(alphabet)[[paired.truth[int(l)] for l in rows_l]]], axis=1)
            species_rows = [paired.left.species[int(l)] for l in rows_l]
            return pairing_gap(model, [(tokens, species_rows)], split_at=paired.left.n_columns, alphabet=alphabet, seed=k)

        if with_model:
            record["pairing_gap"] = _cached(cache / name / "samples" / f"{k:02d}_gap_{CODE}.json", gap)
            if record["pairing_gap"] is None:
                del record["pairing_gap"]
        records.append(record)
    records.sort(key=lambda r: r["sample"])
    return {"training": training, "records": records, "n_train_species": len(train_species),
            "n_test_species": len(test_species), "n_train_pairs": int(len(tl))}


def diagnose_sample(name, k, *, steps, cache, n_masks=8, n_shuffles=8):
    """Model or optimiser?  Left-masked loss at the true pairing, at DiffPALM's pairing and at random ones.

    DiffPALM is rerun exactly as in the benchmark (same seed; its precision must
    match the cached one), then every pairing is scored with the same
    ``n_masks`` left-chain masks (p = 0.7).  If DiffPALM's pairing scores
    *better* than the truth, the model's optimum is not the true pairing (a
    model limit); if it scores worse, the optimiser stopped short.
    """
    import torch
    from esm.data import Alphabet  # noqa: F401

    from protlm.models.esm_msa import load_msa_transformer
    from protlm.pairing.diffpalm import pair_diffpalm
    from protlm.pairing.mlm import mask_rows, masked_loss

    paired = load_dataset(name)
    _train, test = split_dataset(paired)
    species = draw_samples(paired, test, n_samples=k + 1)[k]
    sub, _rows_l, _rows_r = sample_families(paired, species, seed=[SAMPLING["seed"], k])
    model, alphabet = load_msa_transformer(cache / name / f"model-{MODEL_CODE}" / "model.pt", device="auto")
    result = pair_diffpalm(sub, model=model, alphabet=alphabet, steps=steps, runs=1, seed=k, device="auto")
    found = result.mapping()
    lt, rt = sub.left.tokenize(alphabet), sub.right.tokenize(alphabet)
    n = len(lt)
    rng = np.random.default_rng([k, 99])

    def rows(mapping):
        return np.concatenate([np.full((n, 1), alphabet.cls_idx), lt, rt[[mapping[i] for i in range(n)]]], axis=1)

    def shuffled():
        out = {}
        for b in sub.blocks:
            perm = rng.permutation(b.right)
            out.update({int(l): int(r) for l, r in zip(b.left, perm)})
        return out

    pairings = {"truth": sub.truth, "diffpalm": found, **{f"random{j}": shuffled() for j in range(n_shuffles)}}
    losses = {key: [] for key in pairings}
    with torch.no_grad():
        for m in range(n_masks):
            base = rows(sub.truth)
            masked, target = mask_rows(base, split_at=sub.left.n_columns, mode="left",
                                       rng=np.random.default_rng([k, m]), alphabet=alphabet)
            for key, mapping in pairings.items():
                toks = rows(mapping)
                inp = toks.copy()
                inp[target] = alphabet.mask_idx
                losses[key].append(float(masked_loss(model, torch.as_tensor(inp), torch.as_tensor(target),
                                                      torch.as_tensor(toks))))
    truth_loss = float(np.mean(losses["truth"]))
    classes = None
    if name == "hkrr":  # do wrong pairs at least match the response regulator's class (OmpR, NarL, ...)?
        import re

        rr_class = [m.group(1) if (m := re.search(r"_RR_([^|]+)\|", d)) else None for d in sub.right.descriptions]
        wrong = [(i, j) for i, j in found.items() if sub.truth.get(i) != j]
        same = [rr_class[j] == rr_class[sub.truth[i]] for i, j in wrong]
        chance = [np.mean([rr_class[j] == rr_class[sub.truth[i]] for j in b.right]) for b in sub.blocks for i in b.left]
        classes = {"wrong_pairs": len(wrong), "wrong_pairs_same_rr_class": float(np.mean(same)) if same else None,
                   "same_rr_class_by_chance": float(np.mean(chance))}
    random_losses = [float(np.mean(losses[f"random{j}"])) for j in range(n_shuffles)]
    return {
        "precision": result.precision(sub.truth),
        "loss_truth": truth_loss,
        "loss_diffpalm": float(np.mean(losses["diffpalm"])),
        "loss_random_mean": float(np.mean(random_losses)),
        "precision_random_pairings": float(np.mean([
            np.mean([pairings[f"random{j}"][i] == sub.truth[i] for i in range(n)]) for j in range(n_shuffles)])),
        "n_masks": n_masks,
        "rr_class": classes,
        "mapping": {int(i): int(j) for i, j in found.items()},
    }


def collect_diagnosis(cache: Path, names, *, steps: int, n_samples: int) -> dict:
    """The ``--stage diagnose`` records found in the cache, and a table of their means."""
    out = {"records": {}, "table": ""}
    lines = []
    for name in names:
        recs = []
        for k in range(n_samples):
            path = cache / name / "samples" / f"{k:02d}_diagnosis_steps{steps}_{CODE}.json"
            if path.exists():
                rec = json.loads(path.read_text())
                rec.pop("mapping", None)
                recs.append({"sample": k, **rec})
        if not recs:
            continue
        out["records"][name] = recs
        mean = lambda key: float(np.mean([r[key] for r in recs]))  # noqa: E731
        line = (f"{name:<10} diagnosis ({len(recs)} samples): left-masked loss at the truth {mean('loss_truth'):.4f}, "
                f"at DiffPALM's pairing {mean('loss_diffpalm'):.4f} (precision {mean('precision'):.3f}), "
                f"at random within-species pairings {mean('loss_random_mean'):.4f}")
        cls = [r["rr_class"] for r in recs if r.get("rr_class") and r["rr_class"]["wrong_pairs_same_rr_class"] is not None]
        if cls:
            line += (f"; wrong pairs with the true partner's RR class {np.mean([c['wrong_pairs_same_rr_class'] for c in cls]):.3f}"
                     f" (by chance {np.mean([c['same_rr_class_by_chance'] for c in cls]):.3f})")
        lines.append(line)
    out["table"] = "\n".join(lines)
    return out


def summarise(results: dict, methods=METHODS) -> dict:
    """pairing.json: ``{dataset: {method: {mean, sd, n_samples}}, "random_expected": {dataset: value}}``."""
    out = {}
    expected = {}
    for name, res in results.items():
        records = res["records"]
        out[name] = {}
        for method in methods:
            values = [r[method]["precision"] for r in records if method in r]
            seconds = [r[method]["seconds"] for r in records if method in r and "seconds" in r[method]]
            out[name][method] = {"mean": float(np.mean(values)), "sd": float(np.std(values, ddof=1)) if len(values) > 1 else 0.0,
                                 "n_samples": len(values),
                                 "median_seconds": float(np.median(seconds)) if seconds else None}
        expected[name] = float(np.mean([r["random_expected"] for r in records]))
    out["random_expected"] = expected
    return out


def print_table(summary: dict, results: dict) -> str:
    lines = [f"{'dataset':<10} {'method':<17} {'precision':>18} {'n':>3} {'median s':>9}"]
    for name in results:
        for method in METHODS:
            m = summary[name][method]
            sec = "" if m.get("median_seconds") is None else f"{m['median_seconds']:9.1f}"
            lines.append(f"{name:<10} {method:<17} {m['mean']:>8.3f} +/- {m['sd']:.3f} {m['n_samples']:>3} {sec}")
        lines.append(f"{name:<10} {'(species/seqs)':<16} {summary['random_expected'][name]:>8.3f}")
        gaps = [r["pairing_gap"] for r in results[name]["records"]]
        lines.append(
            f"{name:<10} {'pairing gap':<16} {np.mean([g['gap'] for g in gaps]):>8.3f} nats "
            f"(loss true {np.mean([g['loss_true'] for g in gaps]):.3f}, shuffled {np.mean([g['loss_shuffled'] for g in gaps]):.3f})"
        )
    return "\n".join(lines)


def plot(summary: dict, results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(results)
    fig, axes = plt.subplots(1, len(names), figsize=(5 * len(names), 4), squeeze=False)
    for ax, name in zip(axes[0], names):
        for j, method in enumerate(METHODS):
            values = [r[method]["precision"] for r in results[name]["records"]]
            ax.scatter(np.full(len(values), j) + np.linspace(-0.15, 0.15, len(values)), values, s=12, alpha=0.6)
            ax.errorbar(j, summary[name][method]["mean"], yerr=summary[name][method]["sd"], fmt="ks", capsize=4)
        ax.axhline(summary["random_expected"][name], color="grey", ls="--", lw=1, label="species / sequences")
        ax.set_xticks(range(len(METHODS)), METHODS, rotation=20)
        ax.set_ylim(0, 1.02)
        ax.set_ylabel("precision")
        ax.set_title(f"{name}: test samples of ~50 sequences")
        ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", default="malg-malk,hkrr")
    parser.add_argument("--cache", type=Path, default=ROOT / "scratch" / "pairing_benchmark")
    parser.add_argument("--stage", choices=("train", "all", "diagnose"), default="all",
                        help="diagnose: loss at the true pairing vs DiffPALM's vs random ones, per test sample.")
    parser.add_argument("--samples", type=int, default=10, help="Test samples per dataset.")
    parser.add_argument("--steps", type=int, default=30,
                        help="DiffPALM optimisation steps per sample (30: what the shared 2-core CPU allowed; the paper uses 100).")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--train-steps", type=int, default=None)
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--methods", default=",".join(METHODS),
                        help="Subset of methods to run (fills the per-sample cache; the table needs all of them).")
    parser.add_argument("--context-table", action="store_true",
                        help="The weights-free methods with and without the training species' pairs as context, on "
                             "the same samples: writes pairing_context.json (no DiffPALM, no trained model needed).")
    parser.add_argument("--reverse", action="store_true",
                        help="Visit samples last to first (a second process then shares the work).")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", datefmt="%H:%M:%S")
    import torch

    clock = Clock()
    torch.set_num_threads(args.threads)
    names = args.datasets.split(",")
    if args.stage == "train":
        for name in names:
            t0 = time.perf_counter()
            result = train_family_model(name, args.cache, steps=args.train_steps)
            log.info("%s: %r (%.0f s)", name, result, time.perf_counter() - t0)
        return
    if args.stage == "diagnose":
        for name in names:
            for k in range(args.samples):
                value = _cached(args.cache / name / "samples" / f"{k:02d}_diagnosis_steps{args.steps}_{CODE}.json",
                                lambda: diagnose_sample(name, k, steps=args.steps, cache=args.cache))
                if value is not None:
                    log.info("%s sample %d: %s", name, k, value)
        return
    if args.context_table:
        results = {name: evaluate_dataset(name, args.cache, n_samples=args.samples, steps=args.steps,
                                          methods=CONTEXT_METHODS, reverse=args.reverse) for name in names}
        summary = summarise(results, CONTEXT_METHODS)
        lines = [f"{'dataset':<10} {'method':<26} {'precision':>18} {'n':>3} {'median s':>9}"]
        for name in names:
            for method in CONTEXT_METHODS:
                m = summary[name][method]
                lines.append(f"{name:<10} {method:<26} {m['mean']:>8.3f} +/- {m['sd']:.3f} {m['n_samples']:>3} "
                             f"{m['median_seconds']:9.1f}")
            lines.append(f"{name:<10} {'(species/seqs)':<26} {summary['random_expected'][name]:>8.3f}")
        table = "\n".join(lines)
        print(table)
        record = provenance(__file__, argv, clock, code_digest=CODE,
                            note="values computed by this invocation or resumed from a cache with the same code digest; "
                                 "context = every true pair of the training species (the split of pairing.json); "
                                 "DiffPALM with context is not measured here (it needs the trained family models)")
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "pairing_context.json").write_text(json.dumps(
            {**record, "split": SPLIT, "sampling": SAMPLING, **summary,
             "n_context_pairs": {name: res["n_train_pairs"] for name, res in results.items()},
             "samples": {name: res["records"] for name, res in results.items()}, "table": table}, indent=1) + "\n")
        return
    methods = tuple(args.methods.split(","))
    results = {name: evaluate_dataset(name, args.cache, n_samples=args.samples, steps=args.steps, methods=methods,
                                      reverse=args.reverse)
               for name in names}
    complete = all(m in r and "pairing_gap" in r for res in results.values() for r in res["records"] for m in METHODS)
    if set(methods) != set(METHODS) or not complete:
        log.info("cache filled for %s (as far as this process went); rerun without --methods for the table",
                 ", ".join(methods))
        return
    summary = summarise(results)
    table = print_table(summary, results)
    print(table)
    args.out.mkdir(parents=True, exist_ok=True)
    record = provenance(__file__, argv, clock, code_digest=CODE, model_code_digest=MODEL_CODE,
                        note="values computed by this invocation or resumed from a cache with the same code digest")
    (args.out / "pairing.json").write_text(json.dumps({**record, **summary}, indent=2) + "\n")
    details = {
        **record,
        "split": SPLIT, "sampling": SAMPLING, "training": TRAINING, "train_steps": TRAIN_STEPS, "diffpalm": {"steps": args.steps, "runs": 1, "preset": "protlm"},
        "datasets": {
            name: {
                "n_train_species": res["n_train_species"], "n_test_species": res["n_test_species"],
                "n_train_pairs": res["n_train_pairs"],
                "model": {"steps_done": res["training"].steps_done, "best_step": res["training"].best_step,
                          "best_val_loss": res["training"].best_val_loss, "stopped_early": res["training"].stopped_early,
                          "history": res["training"].history},
                "samples": res["records"],
            }
            for name, res in results.items()
        },
        "table": table,
    }
    diagnosis = collect_diagnosis(args.cache, names, steps=args.steps, n_samples=args.samples)
    if diagnosis["table"]:
        print(diagnosis["table"])
        details["diagnosis"] = diagnosis
    (args.out / "pairing_details.json").write_text(json.dumps(details, indent=1) + "\n")
    plot(summary, results, args.out / "pairing.png")


if __name__ == "__main__":
    main()
