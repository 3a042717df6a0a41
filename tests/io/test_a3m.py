import io

import pytest

from io_expected import MSA_FILES
from protlm.errors import A3MFormatError
from protlm.io import iter_a3m, read_a3m, read_fasta, write_a3m, write_fasta

A3M = {k: v for k, v in MSA_FILES.items() if v[0] == "a3m"}


@pytest.mark.parametrize("rel", sorted(A3M))
def test_counts_and_match_columns(data, rel):
    _, n, cols = A3M[rel]
    msa = read_a3m(data(rel))
    assert (msa.n_sequences, msa.n_columns) == (n, cols)
    seqs = msa.sequences
    assert all(s == s.upper() and "." not in s for s in seqs)
    assert len(list(iter_a3m(data(rel)))) == n


@pytest.mark.parametrize("rel", sorted(A3M))
def test_keep_insertions_expands_and_drops_back(data, rel):
    full = read_a3m(data(rel), keep_insertions=True)
    matches = read_a3m(data(rel))
    assert full.n_columns >= matches.n_columns
    assert full.has_insertions
    assert full.drop_insertions().sequences == matches.sequences
    raw = [r.sequence for r in iter_a3m(data(rel))]
    assert [s.replace(".", "") for s in full.sequences] == raw


@pytest.mark.parametrize("rel", sorted(A3M))
def test_round_trip_exact(data, tmp_path, rel):
    raw = list(iter_a3m(data(rel)))
    out = tmp_path / "x.a3m"
    write_a3m(raw, out)
    assert list(iter_a3m(out)) == raw
    # through the MSA object with insertions kept
    msa = read_a3m(data(rel), keep_insertions=True)
    out2 = tmp_path / "y.a3m"
    write_a3m(msa, out2)
    assert list(iter_a3m(out2)) == raw
    assert read_a3m(out2, keep_insertions=True).sequences == msa.sequences


def test_round_trip_bytes_exact(data, tmp_path):
    path = data("msa/UniRef50_E9K9Y4.a3m")
    out = tmp_path / "x.a3m"
    write_a3m(read_a3m(path, keep_insertions=True), out)
    assert out.read_bytes() == path.read_bytes()


def test_colabfold_header_and_annotation_rows(tmp_path):
    text = (
        "#5,3\t1,1\n>101\t102\nACDEFKLM\n>ss_pred\nCCHHHCCC\n>ss_dssp\nCCHHHCCC\n"
        ">UniRef100_A\t235\t0.98\nAC-EFkkKL-\n>\nacd--EF----\n"
    )
    msa = read_a3m(io.StringIO(text))
    assert msa.annotations["header"] == "#5,3\t1,1"
    assert msa.ids == ("101", "UniRef100_A", "")
    assert msa.descriptions[1] == "UniRef100_A\t235\t0.98"
    assert msa.sequences == ["ACDEFKLM", "AC-EFKL-", "--EF----"]
    out = io.StringIO()
    write_a3m(msa, out)
    assert out.getvalue().startswith("#5,3\t1,1\n>101\t102\nACDEFKLM\n")


def test_wrong_match_count_names_record_and_line():
    text = ">q\nACDE\n>h1\nAC-E\n\n>h2\nACkD\n"
    with pytest.raises(A3MFormatError) as err:
        read_a3m(io.StringIO(text))
    assert err.value.record == 2 and err.value.line == 6
    assert "3 match columns" in str(err.value) and "expected 4" in str(err.value)


def test_a3m_read_as_fasta_keeps_raw(data, tmp_path):
    path = data("msa/query.a3m")
    assert [r.sequence for r in read_fasta(path)] == [r.sequence for r in iter_a3m(path)]
    write_fasta(read_fasta(path), tmp_path / "q.a3m")
    assert list(iter_a3m(tmp_path / "q.a3m")) == list(iter_a3m(path))
