"""Stockholm, Clustal, aligned FASTA, format detection and read_msa on every shared alignment."""

import bz2
import gzip
import io

import numpy as np
import pytest

from io_expected import MSA_FILES, SMALL_PER_FORMAT
from protlm.errors import ClustalFormatError, StockholmFormatError
from protlm.io import detect_format, iter_stockholm, read_clustal, read_msa, read_stockholm


@pytest.mark.parametrize("rel", sorted(MSA_FILES))
def test_every_file_reads_with_expected_counts(data, rel):
    fmt, n, cols = MSA_FILES[rel]
    assert detect_format(data(rel)) == fmt
    msa = read_msa(data(rel))
    assert msa.n_sequences == n
    if cols is not None:
        assert msa.n_columns == cols
    assert msa.array.dtype == np.uint8 and msa.array.shape == (n, msa.n_columns)
    assert not ((msa.array >= 97) & (msa.array <= 122)).any(), "match columns are uppercase"
    assert not (msa.array == ord(".")).any()


@pytest.mark.parametrize("fmt", sorted(SMALL_PER_FORMAT))
@pytest.mark.parametrize("how", ["path", "text", "binary", "gzip", "bz2"])
def test_each_format_from_path_handle_gzip(data, tmp_path, fmt, how):
    path = data(SMALL_PER_FORMAT[fmt])
    expected = read_msa(path)
    raw = path.read_bytes()
    if how == "path":
        src = path
    elif how == "text":
        src = io.StringIO(raw.decode())
    elif how == "binary":
        src = io.BytesIO(raw)
    elif how == "gzip":
        src = tmp_path / (path.name + ".gz")
        src.write_bytes(gzip.compress(raw))
    else:
        src = tmp_path / (path.name + ".bz2")
        src.write_bytes(bz2.compress(raw))
    got = read_msa(src, format=fmt) if how in ("text", "binary") else read_msa(src)
    assert got.sequences == expected.sequences and got.ids == expected.ids


def test_stockholm_descriptions_and_species(data):
    msa = read_stockholm(data("msa/uniref90_hits.sto"), species_key="auto")
    assert msa.descriptions[1].startswith("UniRef90_D7BIZ4/1-73 [subseq from] Uncharacterized protein n=1")
    assert msa.species[1] == "526227"
    assert msa.n_no_species == 1  # the query has no #=GS line
    assert len({s for s in msa.species if s}) == 52
    assert msa.annotations["GS"]["UniRef90_D7BIZ4/1-73"]["DE"].endswith("RepID=D7BIZ4_MEISD")
    # RF marks the match columns; with insertions kept they come back
    full = read_stockholm(data("msa/uniref90_hits.sto"), keep_insertions=True)
    assert full.n_columns == len(full.annotations["GC"]["RF"]) > msa.n_columns
    assert full.drop_insertions().sequences == msa.sequences


def test_stockholm_multiline_gs_and_gf(data):
    msa = read_stockholm(data("msa/example.sth"))
    assert msa.ids == ("CRN_DROME/191-222", "CLF1_SCHPO/185-216", "O16376_CAEEL/201-233")
    gs = msa.annotations["GS"]
    assert gs["CLF1_SCHPO/185-216"]["AC"] == "P87312.1"
    assert "HAT" in msa.annotations["GF"]["ID"]
    assert "\n" in msa.annotations["GF"]["CC"]


def test_stockholm_agrees_with_biopython(data):
    from Bio import AlignIO

    for rel in ["msa/fn3.sto", "msa/Pkinase.sto", "msa/pfam8.seed.sto", "msa/globins4.sto"]:
        bio = AlignIO.read(str(data(rel)), "stockholm")
        ours = read_stockholm(data(rel), keep_insertions=True)
        assert [r.id for r in bio] == list(ours.ids)
        assert [str(r.seq) for r in bio] == [s.replace(".", "-") for s in ours.sequences]


def test_clustal_agrees_with_biopython(data):
    from Bio import AlignIO

    for rel in ["msa/protein.aln", "msa/hedgehog.aln", "msa/muscle.aln"]:
        bio = AlignIO.read(str(data(rel)), "clustal")
        ours = read_clustal(data(rel))
        assert [r.id for r in bio] == list(ours.ids)
        assert [str(r.seq) for r in bio] == ours.sequences


def test_several_stockholm_alignments_interleaved():
    text = (
        "# STOCKHOLM 1.0\n#=GF ID one\n#=GS a/1-4 DE first OS=Homo sapiens\n#=GS a/1-4 OS Homo sapiens\n"
        "a/1-4  AC..\nb/2-5  AD-E\n\na/1-4  DE\nb/2-5  KL\n//\n"
        "# STOCKHOLM 1.0\n#=GF ID two\nc  MK\n//\n"
    )
    msas = list(iter_stockholm(io.StringIO(text)))
    assert [m.annotations["GF"]["ID"] for m in msas] == ["one", "two"]
    assert msas[0].sequences == ["AC--DE", "AD-EKL"]
    assert msas[0].descriptions[0] == "a/1-4 first OS=Homo sapiens"
    assert msas[0].annotations["GS"]["a/1-4"]["OS"] == "Homo sapiens"
    assert msas[0].with_species("os").species == ("Homo sapiens", None)
    assert read_stockholm(io.StringIO(text)).annotations["GF"]["ID"] == "one"


@pytest.mark.parametrize(
    "text, cls, line, fragment",
    [
        ("# STOCKHOLM 1.0\na AC\nb A\n//\n", StockholmFormatError, 3, "ragged"),
        ("# STOCKHOLM 1.0\na AC\n", StockholmFormatError, 2, "missing '//'"),
        ("a AC\n//\n", StockholmFormatError, 1, "# STOCKHOLM"),
        ("# STOCKHOLM 1.0\na A C\n//\n", StockholmFormatError, 2, "2 fields"),
        ("CLUSTAL W\n\na AC\nb A\n", ClustalFormatError, 4, "ragged"),
        ("CLUSTAL W\n\na A#C\n", ClustalFormatError, 3, "'#'"),
    ],
)
def test_interleaved_errors(text, cls, line, fragment):
    fmt = "stockholm" if cls is StockholmFormatError else "clustal"
    with pytest.raises(cls) as err:
        read_msa(io.StringIO(text), format=fmt)
    assert err.value.line == line
    assert fragment in str(err.value)


def test_detect_format_by_content_not_name(data, tmp_path):
    p = tmp_path / "misnamed.fasta"
    p.write_bytes(gzip.compress((data("msa/fn3.sto")).read_bytes()))
    assert detect_format(p) == "stockholm"
    assert read_msa(p).n_sequences == 98


def test_read_msa_from_stdin(data, monkeypatch):
    import sys

    data = gzip.compress((data("msa/fn3.sto")).read_bytes())
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    msa = read_msa("-")
    assert msa.n_sequences == 98
