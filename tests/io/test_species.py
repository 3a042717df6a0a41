import pytest

from protlm.errors import SpeciesKeyError
from protlm.io import read_fasta, read_msa, species_key


@pytest.mark.parametrize(
    "spec, id_, desc, expected",
    [
        ("auto", "UniRef90_X", "UniRef90_X n=3 Tax=E. coli TaxID=562 RepID=Y", "562"),
        ("auto", "sp|P1|A_ECOLI", "sp|P1|A_ECOLI x OS=Escherichia coli OX=83333 GN=a PE=1 SV=1", "83333"),
        ("auto", "HK1_HK_Classic|Sp_one|Pair_RR1|HisKA_1-60/RR1_RR|Sp_one|Pair_HK1|Response_reg_1-112", "", "Sp_one"),
        ("auto", "F4DPU0_F4DPT9_1_1001585", "F4DPU0_F4DPT9_1_1001585", "1001585"),
        ("auto", "query", "query", None),
        ("auto", "a_b_c_d", "a_b_c_d", None),  # not MalG/MalK-shaped: no guess
        ("taxid", "x", "x OX=9", None),
        ("ox", "x", "x OX=9 TaxID=10", "9"),
        ("os", "x", "x OS=Homo sapiens OX=9606", "Homo sapiens"),
        ("field:|:2", "a|b|c", "", "b"),
        ("field:_:-1", "a_b_c", "", "c"),
        ("field:|:5", "a|b", "", None),
        ("field:|:1", "nobar", "", None),
        ("regex:Tax=(\\S+)", "x", "x Tax=Bos", "Bos"),
        ("regex:Tax=\\S+", "x", "x Tax=Bos", "Tax=Bos"),
    ],
)
def test_specs(spec, id_, desc, expected):
    assert species_key(spec)(id_, desc) == expected


def test_callable_passes_through():
    fn = lambda i, d: i[:2]  # noqa: E731
    assert species_key(fn) is fn


@pytest.mark.parametrize("spec", ["nope", "field:|:0", "field:|:x", "field::2", "regex:(", 3])
def test_bad_specs(spec):
    with pytest.raises(SpeciesKeyError) as err:
        species_key(spec)
    assert isinstance(err.value, ValueError)


def test_auto_on_pairing_files(data):
    hk = read_msa(data("pairing/hkrr_standard.fasta"), species_key="auto")
    explicit = read_msa(data("pairing/hkrr_standard.fasta"), species_key="field:|:2")
    assert hk.species[1:] == explicit.species[1:]
    assert hk.species[0] is None  # FirstSeq/1-176 placeholder
    mg = read_msa(data("pairing/malg.fasta"), species_key="auto")
    assert mg.species == read_msa(data("pairing/malg.fasta"), species_key="field:_:-1").species
    assert len(set(mg.species)) == 880 and mg.n_no_species == 0


def test_uniprot_ox_key_on_proteome(data):
    recs = read_fasta(data("proteomes/ecoli_k12_UP000000625.fasta"))
    key = species_key("auto")
    assert {key(r.id, r.description) for r in recs} == {"83333"}
