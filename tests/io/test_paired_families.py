import numpy as np
import pytest

from protlm.errors import PairingInputError
from protlm.io import MSA, PairedFamilies, read_msa


@pytest.fixture(scope="module")
def hkrr(data):
    return read_msa(data("pairing/hkrr_standard.fasta"))


def test_hkrr_standard_counts(hkrr):
    pf = PairedFamilies.from_concatenated(hkrr, split_at=64, species_key="field:|:2", exclude="_DUMMY")
    s = pf.summary()
    assert (s["n_columns_left"], s["n_columns_right"]) == (64, 112)
    assert pf.n_species == 502
    assert len(pf.truth) == 5107 and all(i == j for i, j in pf.truth.items())
    assert s["max_block_size"] == 35
    assert s["n_species_with_2_or_more"] == 459
    assert pf.n_no_key_left == 1 and pf.excluded_left == (5108,)
    assert pf.unequal == () and pf.left_only == () and pf.right_only == ()
    assert 0 not in pf.truth  # the FirstSeq placeholder
    # every true pair lies inside one block
    where = {int(i): b.species for b in pf.blocks for i in b.left}
    species = hkrr.with_species("field:|:2").species
    assert all(where[i] == species[j] for i, j in pf.truth.items())


def test_hkrr_auto_key_matches_explicit(hkrr):
    a = PairedFamilies.from_concatenated(hkrr, split_at=64, exclude="_DUMMY")
    assert [b.species for b in a.blocks][:3] == ["Acetohalobium_arabaticum_DSM_5501", *[b.species for b in a.blocks][1:3]]
    assert a.summary() == PairedFamilies.from_concatenated(hkrr, split_at=64, species_key="field:|:2", exclude="_DUMMY").summary()


def test_hkrr_575(data):
    msa = read_msa(data("pairing/hkrr_standard_575.fasta"))
    pf = PairedFamilies.from_concatenated(msa, split_at=64, exclude="_DUMMY")
    assert (pf.n_species, len(pf.truth)) == (44, 575)


def test_malg_malk(data):
    g = read_msa(data("pairing/malg.fasta"))
    k = read_msa(data("pairing/malk.fasta"))
    pf = PairedFamilies.from_msas(g, k, truth="same-order")
    assert pf.n_species == 880 and len(pf.truth) == 5005
    assert sum(b.n_left for b in pf.blocks) == 5005
    assert pf.unequal == ()
    df = pf.to_dataframe()
    assert df["n_true_pairs"].sum() == 5005 and len(df) == 880


def test_pairs_file_and_one_sided_species(tmp_path):
    left = MSA.from_sequences(["AA", "AC", "AD", "AE"], ids=["l1 OX=1", "l2 OX=1", "l3 OX=2", "l4"])
    right = MSA.from_sequences(["KA", "KC", "KD"], ids=["r1 OX=1", "r2 OX=1", "r3 OX=9"])
    pairs = tmp_path / "pairs.tsv"
    pairs.write_text("# left\tright\nl1\tr2\nl2\tr1\n")
    pf = PairedFamilies.from_msas(left, right, truth=pairs)
    assert pf.truth == {0: 1, 1: 0}
    assert pf.left_only == ("2",) and pf.right_only == ("9",)
    assert pf.n_no_key_left == 1 and pf.n_no_key_right == 0
    b = pf.blocks[0]
    assert np.array_equal(b.left, [0, 1]) and np.array_equal(b.right, [0, 1])
    pf.write(tmp_path / "blocks.tsv")
    assert (tmp_path / "blocks.tsv").read_text().splitlines()[0] == "species\tn_left\tn_right\tn_true_pairs"


def test_unequal_blocks_reported():
    left = MSA.from_sequences(["AA", "AC", "AD"], ids=["a OX=1", "b OX=1", "c OX=1"])
    right = MSA.from_sequences(["KA"], ids=["x OX=1"])
    pf = PairedFamilies.from_msas(left, right)
    assert pf.unequal == ("1",) and pf.truth is None


@pytest.mark.parametrize(
    "kwargs, fragment",
    [
        ({"truth": "same-order"}, "same length"),
        ({"species_key": "taxid"}, "no species in common"),
        ({"truth": 42}, "truth must be"),
    ],
)
def test_errors(kwargs, fragment):
    left = MSA.from_sequences(["AA", "AC"], ids=["a OX=1", "b OX=1"])
    right = MSA.from_sequences(["KA"], ids=["x OX=1"])
    with pytest.raises(PairingInputError, match=fragment):
        PairedFamilies.from_msas(left, right, **kwargs)


def test_pairs_file_errors(tmp_path):
    left = MSA.from_sequences(["AA", "AC"], ids=["a OX=1", "a OX=1"])
    right = MSA.from_sequences(["KA"], ids=["x OX=1"])
    p = tmp_path / "p.tsv"
    p.write_text("a\tx\n")
    with pytest.raises(PairingInputError, match="more than once"):
        PairedFamilies.from_msas(left, right, truth=p)
    p.write_text("zz\tx\n")
    with pytest.raises(PairingInputError, match="not in the left"):
        PairedFamilies.from_msas(left, right, truth=p)


def test_same_order_species_mismatch():
    left = MSA.from_sequences(["AA", "AC"], ids=["a OX=1", "b OX=2"])
    right = MSA.from_sequences(["KA", "KC"], ids=["x OX=2", "y OX=1"])
    with pytest.raises(PairingInputError, match="row 1"):
        PairedFamilies.from_msas(left, right, truth="same-order")


def test_split_at_checked(hkrr):
    with pytest.raises(PairingInputError, match="split_at"):
        PairedFamilies.from_concatenated(hkrr, split_at=176)


def test_pairs_file_header_line_and_missing_file(tmp_path):
    left = MSA.from_sequences(["AA", "AC"], ids=["l1 OX=1", "l2 OX=1"])
    right = MSA.from_sequences(["KA", "KC"], ids=["r1 OX=1", "r2 OX=1"])
    p = tmp_path / "pairs.tsv"
    p.write_text("left_id\tright_id\nl1\tr2\nl2\tr1\n")  # protlm's own pairs.tsv columns as header
    assert PairedFamilies.from_msas(left, right, truth=p).truth == {0: 1, 1: 0}
    p.write_text("l1\tr2\nleft_id\tright_id\n")  # only the first line may be a header
    with pytest.raises(PairingInputError, match="line 2: id 'left_id' is not in the left MSA"):
        PairedFamilies.from_msas(left, right, truth=p)
    with pytest.raises(PairingInputError, match="no such pairs file"):
        PairedFamilies.from_msas(left, right, truth=tmp_path / "missing.tsv")
