import bz2
import gzip
import io

import pytest

from io_expected import MSA_FILES, SEQ_FILES
from protlm.errors import FastaFormatError, FormatError
from protlm.io import FastaRecord, iter_fasta, read_fasta, write_fasta

FASTA_FILES = {k: v[1] for k, v in MSA_FILES.items() if v[0] == "fasta"} | {k: v[0] for k, v in SEQ_FILES.items()}


@pytest.mark.parametrize("rel", sorted(FASTA_FILES))
def test_counts_match_sources(data, rel):
    records = read_fasta(data(rel))
    assert len(records) == FASTA_FILES[rel]
    assert all(r.sequence for r in records)


def test_ecoli_residue_count(data):
    records = read_fasta(data("proteomes/ecoli_k12_UP000000625.fasta"))
    assert sum(len(r.sequence) for r in records) == 1_353_365
    assert records[0].id == "sp|A0A385XJ53|INSA9_ECOLI"
    assert records[0].description.endswith("PE=3 SV=1")


def test_hkrr_wrapped_lines_and_blank_lines(data):
    recs = read_fasta(data("pairing/hkrr_standard.fasta"))
    assert {len(r.sequence) for r in recs} == {176}
    assert recs[0].id == "FirstSeq/1-176"
    assert recs[0].sequence == recs[1].sequence
    assert recs[-1].id.split("/")[0].endswith("_DUMMY") or "_DUMMY" in recs[-1].id


def test_iter_and_read_agree(data):
    path = data("pairing/malk.fasta")
    assert list(iter_fasta(path)) == read_fasta(path)


def test_small_chunks_give_same_records(data, monkeypatch):
    import protlm.io.fasta as fasta

    path = data("pairing/hkrr_standard_575.fasta")
    expected = read_fasta(path)
    monkeypatch.setattr(fasta, "CHUNK_CHARS", 7)
    assert read_fasta(path) == expected


@pytest.mark.parametrize("how", ["path", "text", "binary", "gzip", "bz2", "str"])
def test_sources(data, tmp_path, how):
    path = data("msa/PF00072_seed_hmmalign_no_inserts.fasta")
    expected = read_fasta(path)
    data = path.read_bytes()
    if how == "path":
        src = path
    elif how == "str":
        src = str(path)
    elif how == "text":
        src = io.StringIO(data.decode())
    elif how == "binary":
        src = io.BytesIO(data)
    elif how == "gzip":
        src = tmp_path / "x.fasta"  # compression sniffed from content, not the name
        src.write_bytes(gzip.compress(data))
    else:
        src = tmp_path / "x.bz2"
        src.write_bytes(bz2.compress(data))
    assert read_fasta(src) == expected


def test_tolerated_oddities():
    text = ">a desc\r\nACD*\r\n>\r\nacde\r\n>a\r\nAC\r\n\r\n>b\tfield2\tfield3\nMK-.V\n"
    recs = read_fasta(io.StringIO(text))
    assert [r.id for r in recs] == ["a", "", "a", "b"]
    assert [r.sequence for r in recs] == ["ACD*", "acde", "AC", "MK-.V"]
    assert recs[0].description == "a desc"
    assert recs[3].description == "b\tfield2\tfield3"


def test_error_line_counts_wrapped_and_blank_lines(monkeypatch):
    import protlm.io.fasta as fasta

    text = ">a\nAC\nDE\n\n>b\nK\n>c\nKL\nM9\n"
    for chunk in (3, 1 << 20):  # records split across chunks or not
        monkeypatch.setattr(fasta, "CHUNK_CHARS", chunk)
        with pytest.raises(FastaFormatError) as err:
            read_fasta(io.StringIO(text))
        assert (err.value.record, err.value.line) == (2, 9)


@pytest.mark.parametrize("width", [None, 60, 7])
@pytest.mark.parametrize("rel", ["pairing/hkrr_standard_575.fasta", "proteomes/ecoli_k12_UP000000625.fasta"])
def test_round_trip_exact(data, tmp_path, rel, width):
    recs = read_fasta(data(rel))
    out = tmp_path / "out.fasta"
    assert write_fasta(recs, out, width=width) == len(recs)
    assert read_fasta(out) == recs


def test_round_trip_bytes_exact_for_one_line_files(data, tmp_path):
    path = data("pairing/malg.fasta")
    out = tmp_path / "malg.fasta"
    write_fasta(read_fasta(path), out, width=60)
    assert out.read_bytes() == path.read_bytes()


def test_write_to_handle():
    buf = io.StringIO()
    write_fasta([FastaRecord("x", "x y", "AC")], buf)
    assert buf.getvalue() == ">x y\nAC\n"


def test_errors_subclass_builtin():
    with pytest.raises(ValueError):
        read_fasta(io.StringIO("ACD\n"))
    with pytest.raises(FormatError):
        read_fasta(io.StringIO(">a\nAC1\n"))
    assert issubclass(FastaFormatError, FormatError)


@pytest.mark.parametrize("chunk", [64, 1000, 1 << 22])
def test_error_line_after_many_fast_batches(monkeypatch, chunk):
    import protlm.io.fasta as fasta

    recs = [f">r{i} desc\n" + "ACDEFGHIKL\n" * (i % 3 + 1) + ("\n" if i % 5 == 0 else "") for i in range(300)]
    text = "".join(recs) + ">bad\nACD\nAC#D\n"
    expected_line = text.count("\n")  # the last line holds the bad character
    monkeypatch.setattr(fasta, "CHUNK_CHARS", chunk)
    with pytest.raises(FastaFormatError) as err:
        read_fasta(io.StringIO(text))
    assert (err.value.record, err.value.line) == (300, expected_line)
    assert [r.id for r in read_fasta(io.StringIO("".join(recs)))] == [f"r{i}" for i in range(300)]


def test_uniprot_batch_parser_matches_single(data):
    from protlm.io.uniprot import _headers_batch, parse_uniprot_header

    descs = [r.description for r in read_fasta(data("proteomes/ecoli_k12_UP000000625.fasta"))]
    odd = [
        "sp|P1|A_B",
        "sp|P1|A_B Name",
        "sp|P1|A_B Name GN=x OS=Homo OX=9",  # keys out of order
        "sp|P1|A_B Name OS=Homo sapiens OX=9606 GN=A PE=1 SV=3 Split=0 more",
        "tr|Q1|Q1_9X Some protein, partial OS=Virus X (strain 1) OX=12 PE=4 SV=1",
    ]
    for batch in (descs, odd, descs[:7] + odd):
        assert _headers_batch(batch) == [parse_uniprot_header(d) for d in batch]


@pytest.mark.parametrize("chunk", [5, 17, 64, 1 << 16])
@pytest.mark.parametrize("layout", ["one-line", "wrapped", "blank-lines", "crlf"])
def test_error_lines_any_chunking(monkeypatch, chunk, layout):
    import protlm.io.fasta as fasta

    body = {"one-line": "ACDEFGHIK\n", "wrapped": "ACDE\nFGHIK\n", "blank-lines": "ACDEFGHIK\n\n", "crlf": "ACDE\r\nFGHIK\r\n"}[layout]
    good = "".join(f">r{i} x\n{body}" for i in range(40))
    text = good + ">bad\nAC%D\n"
    monkeypatch.setattr(fasta, "CHUNK_CHARS", chunk)
    with pytest.raises(FastaFormatError) as err:
        read_fasta(io.StringIO(text))
    assert (err.value.record, err.value.line) == (40, text.count("\n"))
    assert [r.sequence for r in read_fasta(io.StringIO(good))] == ["ACDEFGHIK"] * 40


def test_record_longer_than_many_chunks(monkeypatch):
    import protlm.io.fasta as fasta

    monkeypatch.setattr(fasta, "CHUNK_CHARS", 64)
    long_seq = "ACDEFGHIKL" * 20000
    text = ">a\nMK\n>long x\n" + "\n".join(long_seq[i : i + 61] for i in range(0, len(long_seq), 61)) + "\n>b\nKL"
    recs = read_fasta(io.StringIO(text))
    assert [r.id for r in recs] == ["a", "long", "b"] and recs[1].sequence == long_seq


@pytest.mark.parametrize("chunk", range(3, 12))
def test_every_chunk_boundary(monkeypatch, chunk):
    import protlm.io.fasta as fasta

    text = ">a x\nAC\nD\n>b\nEF\n\n>c\r\nGH\r\n>d\nIK\n"
    expected = read_fasta(io.StringIO(text))
    monkeypatch.setattr(fasta, "CHUNK_CHARS", chunk)
    assert read_fasta(io.StringIO(text)) == expected
    assert [r.sequence for r in expected] == ["ACD", "EF", "GH", "IK"]
