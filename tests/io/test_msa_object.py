import numpy as np
import pytest

from protlm.errors import AlphabetError, FormatError
from protlm.io import MSA, read_msa


@pytest.fixture(scope="module")
def small():
    return MSA.from_sequences(
        ["ACDEFG", "ACDEFG", "AC-EFK", "------", "MKLVWY"],
        ids=["q OX=1", "dup OX=1", "h OX=2", "gappy", "far OX=3"],
    )


def test_basic_properties(small):
    assert len(small) == small.n_sequences == 5
    assert small.n_columns == 6
    assert small.ids[0] == "q" and small.descriptions[0] == "q OX=1"
    assert small.gap_fraction() == pytest.approx(7 / 30)
    assert small[1:3].ids == ("dup", "h")
    assert small[np.array([True, False, False, False, True])].ids == ("q", "far")
    assert small[-1].ids == ("far",)
    with pytest.raises(IndexError):
        small[5]
    assert not small.array.flags.writeable


def test_filters(small):
    assert small.filter_gaps(max_gap_fraction=0.5).ids == ("q", "dup", "h", "far")
    assert small.filter_identity(max_identity=0.9).ids == ("q", "h", "gappy", "far")
    ident = small.identity_to(0)
    assert ident[1] == 1.0 and ident[2] == pytest.approx(4 / 5) and ident[3] == 0.0


def test_subsample(small):
    sub = small.subsample(3, seed=1)
    assert len(sub) == 3 and sub.ids[0] == "q"
    assert sub.ids == small.subsample(3, seed=1).ids
    assert small.subsample(10) is small
    assert len(small.subsample(2, keep_first=False, seed=3)) == 2


def test_slice_and_records(small):
    left = small.slice_columns(0, 2)
    assert left.sequences[0] == "AC" and left.ids == small.ids
    recs = small.to_records()
    assert recs[2].sequence == "AC-EFK" and recs[2].description == "h OX=2"


def test_species_and_dataframe(small):
    s = small.with_species("auto")
    assert s.species == ("1", "1", "2", None, "3")
    assert s.n_no_species == 1
    df = s.to_dataframe()
    assert list(df.columns) == ["id", "description", "species", "gap_fraction", "sequence"]
    assert df.loc[3, "gap_fraction"] == 1.0


def test_ragged_rows_raise():
    with pytest.raises(FormatError, match="ragged"):
        MSA.from_sequences(["AC", "A"])


def test_tokenize_with_fair_esm_alphabet(data):
    esm = pytest.importorskip("esm")
    alphabet = esm.data.Alphabet.from_architecture("msa_transformer")
    msa = read_msa(data("msa/UniRef50_E9K9Y4.a3m"))
    tokens = msa.tokenize(alphabet)
    assert tokens.shape == (17, 98) and tokens.dtype == np.int64
    batch_converter = alphabet.get_batch_converter()
    _, _, ref = batch_converter([list(zip(msa.ids, msa.sequences))])
    assert np.array_equal(tokens, ref[0, :, 1:].numpy())  # fair-esm prepends <cls>


def test_tokenize_rejects_letter_with_position():
    class Alpha:
        tok_to_idx = {"A": 4, "C": 5, "-": 1, "<cls>": 0}

    msa = MSA.from_sequences(["AC-", "AJC"], ids=["q", "hit"])
    with pytest.raises(AlphabetError) as err:
        msa.tokenize(Alpha())
    assert err.value.record == 1
    assert "row 'hit', column 2: letter 'J'" in str(err.value)


def test_write_round_trip(tmp_path, data):
    msa = read_msa(data("msa/fn3.sto"))
    msa.write(tmp_path / "fn3.fasta")
    back = read_msa(tmp_path / "fn3.fasta")
    assert back.sequences == msa.sequences and back.ids == msa.ids
