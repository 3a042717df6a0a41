"""The pairing benchmark's protocol: species split, depth-window samples of whole test species, shuffling."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from protlm.errors import PairingInputError
from protlm.pairing.sampling import group_by_species, sample_depth_window, sample_species, split_species


@pytest.fixture(scope="module")
def bench(repo_root, shared_data):
    spec = importlib.util.spec_from_file_location("pairing_benchmark", repo_root / "benchmarks" / "pairing.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module", params=["malg-malk", "hkrr"])
def dataset(request, bench):
    paired = bench.load_dataset(request.param)
    return request.param, paired, *bench.split_dataset(paired)


def test_dataset_loading(dataset):
    name, paired, train, test = dataset
    # HK-RR: FirstSeq placeholder and _DUMMY record dropped; 5,107 real pairs in 502 species
    expected = {"malg-malk": (5005, 880), "hkrr": (5107, 502)}[name]
    assert (len(paired.truth), paired.n_species) == expected
    assert not any(i.startswith("FirstSeq") or "_DUMMY" in i for i in paired.left.ids)


def test_samples_obey_the_protocol(bench, dataset):
    name, paired, train, test = dataset
    assert not set(train) & set(test) and len(test) == round(0.2 * paired.n_species)
    sizes = {b.species: b.n_left for b in paired.blocks}
    samples = bench.draw_samples(paired, test, n_samples=10)
    assert len(samples) == 10
    for species in samples:
        assert len(set(species)) == len(species)
        assert not set(species) & set(train)
        assert all(2 <= sizes[s] <= 100 for s in species)
        assert 45 <= sum(sizes[s] for s in species) <= 55
    # reproducible from the recorded seeds
    assert bench.draw_samples(paired, bench.split_dataset(paired)[1], n_samples=10) == samples


def test_sample_is_shuffled_within_species_and_scored_against_the_truth(bench, dataset):
    name, paired, train, test = dataset
    species = bench.draw_samples(paired, test, n_samples=1)[0]
    sub, rows_l, rows_r = bench.sample_families(paired, species, seed=[0, 0])
    assert sub.left.n_sequences == sub.right.n_sequences == len(rows_l)
    assert {b.species for b in sub.blocks} == set(species)
    # the truth maps each left row to the right row holding its original partner
    for i, j in sub.truth.items():
        assert rows_r[j] == paired.truth[int(rows_l[i])]
        assert sub.left.species[i] == sub.right.species[j]
    # shuffled: the input order is not the true pairing
    assert sum(i == j for i, j in sub.truth.items()) < 0.8 * len(sub.truth)


def test_split_is_seeded_and_complete():
    names = [f"s{i}" for i in range(50)]
    train, test = split_species(names, test_fraction=0.2, seed=3)
    assert (train, test) == split_species(list(reversed(names)), test_fraction=0.2, seed=3)
    assert len(test) == 10 and sorted(train + test) == sorted(names)
    assert split_species(names, test_fraction=0.2, seed=4) != (train, test)
    with pytest.raises(PairingInputError):
        split_species(names, test_fraction=1.0)


def test_sample_species_takes_whole_species():
    sizes = {"a": 3, "b": 4, "c": 5, "d": 30}
    for seed in range(20):
        chosen = sample_species(sizes, depth=10, rng=np.random.default_rng(seed))
        total = sum(sizes[s] for s in chosen)
        assert total <= 10 or chosen == ["d"]


def test_depth_window_rejects_impossible_requests():
    with pytest.raises(PairingInputError, match="fewer than one sample"):
        sample_depth_window({"a": 2, "b": 3, "c": 200}, depth=50)


def test_group_by_species():
    groups = group_by_species(["x", "y", "x", None])
    assert {k: v.tolist() for k, v in groups.items()} == {"x": [0, 2], "y": [1]}


def test_diffpalm_with_context_runs_on_a_sample(bench):
    """The benchmark's DiffPALM-with-context method, on one HK-RR test sample, with a tiny random model and 1 step."""
    import torch

    from protlm.models.esm_msa import build_msa_transformer

    torch.set_num_threads(1)
    paired = bench.load_dataset("hkrr")
    train, test = bench.split_dataset(paired)
    species = bench.draw_samples(paired, test, n_samples=1)[0]
    sub, _, _ = bench.sample_families(paired, species, seed=[0, 0])
    keep = set(train)
    tl = np.array(sorted(l for l in paired.truth if paired.left.species[l] in keep))
    tr = np.array([paired.truth[int(l)] for l in tl])
    model, alphabet, _ = build_msa_transformer(layers=1, embed_dim=32, heads=4, ffn_dim=64, seed=0)
    rec = bench.run_method("diffpalm_family_context", sub, seed=0, model=model.eval(), alphabet=alphabet,
                           train_pairs=(tl, tr), paired=paired, steps=1)
    assert rec["n_context_rows"] == bench.DIFFPALM_CONTEXT_ROWS and rec["context_pairs_given"] == len(tl) > 1000
    assert 0.0 <= rec["precision"] <= 1.0
