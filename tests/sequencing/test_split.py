import numpy as np
import pytest

from protlm.models.alphabet import AMINO_ACIDS
from protlm.sequencing.split import SPLITS, cluster_by_kmers, split_sequences


def _family(seed, n_members, length=300, identity=0.8):
    rng = np.random.default_rng(seed)
    root = rng.choice(list(AMINO_ACIDS), size=length)
    members = []
    for _ in range(n_members):
        m = root.copy()
        change = rng.random(length) > identity
        m[change] = rng.choice(list(AMINO_ACIDS), size=int(change.sum()))
        members.append("".join(m))
    return members


def test_homologs_cluster_together_and_unrelated_apart():
    fams = [_family(s, 4) for s in range(6)]
    seqs = [s for f in fams for s in f]
    labels = cluster_by_kmers(seqs)
    for k in range(6):
        assert len(set(labels[4 * k: 4 * k + 4])) == 1
    assert len(set(labels)) == 6


def test_distant_sequences_are_not_linked():
    a, b = _family(1, 2, identity=0.3)
    assert len(set(cluster_by_kmers([a, b]).tolist())) == 2


def test_split_keeps_clusters_on_one_side():
    fams = [_family(s, 3) for s in range(60)]
    seqs = [s for f in fams for s in f]
    ids = [f"f{k}_{j}" for k in range(60) for j in range(3)]
    split = split_sequences(ids, seqs, test_fraction=0.2, valid_fraction=0.1, random_test_fraction=0.1, seed=1)
    assert set(split.splits) <= set(SPLITS)
    for k in range(60):
        sides = set(split.splits[3 * k: 3 * k + 3])
        held = sides & {"test", "valid"}
        if held:
            assert sides == held and len(held) == 1
    assert len(split.indices("test")) > 0 and len(split.indices("test_random")) > 0
    # test_random members have relatives in training: the random split's situation
    for i in split.indices("test_random"):
        fam = i // 3
        assert any(split.splits[3 * fam + j] == "train" for j in range(3))


def test_split_is_seeded_and_order_free():
    fams = [_family(s, 2) for s in range(40)]
    seqs = [s for f in fams for s in f]
    ids = [f"s{i}" for i in range(len(seqs))]
    a = split_sequences(ids, seqs, seed=3)
    b = split_sequences(ids[::-1], seqs[::-1], seed=3)
    assert dict(zip(a.ids, a.splits)) == dict(zip(b.ids, b.splits))
    assert a.digest("test") == b.digest("test")


def test_random_method_and_errors(tmp_path):
    seqs = _family(0, 50)
    ids = [f"s{i}" for i in range(50)]
    split = split_sequences(ids, seqs, method="random", test_fraction=0.3, seed=0)
    assert "test" in split.splits  # near-identical family split across sides: no homology control
    with pytest.raises(ValueError, match="unique"):
        split_sequences(["a", "a"], ["MK", "MK"])
    with pytest.raises(ValueError, match="choose from kmer, random"):
        split_sequences(ids, seqs, method="mmseqs")
    split.write(tmp_path / "split.tsv")
    assert (tmp_path / "split.tsv").read_text().startswith("id\tsplit\tcluster\n")
