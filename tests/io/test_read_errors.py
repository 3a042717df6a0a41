"""Bad input: a FormatError subclass naming file, record and 1-based line; never another exception."""

import gzip

import pytest

from protlm.errors import A3MFormatError, FastaFormatError, FormatError
from protlm.io import read_a3m, read_fasta, read_msa


def _write(tmp_path, name, data):
    p = tmp_path / name
    p.write_bytes(data if isinstance(data, bytes) else data.encode())
    return p


CASES = [
    # name, content, reader, error class, record (0-based) or None, line or None, fragment
    ("empty.fasta", "", read_msa, FormatError, None, None, "empty file"),
    ("blank.fasta", "\n\n  \n", read_msa, FormatError, None, None, "empty file"),
    ("ragged.fasta", ">a\nACD\n>b\nAC\n", read_msa, FastaFormatError, 1, 3, "ragged alignment"),
    ("letters.fasta", ">a\nACD\n>b\nAC\nD1E\n", read_fasta, FastaFormatError, 1, 5, "'1'"),
    ("space.fasta", ">a\nAC D\n", read_fasta, None, None, None, None),  # whitespace inside a line is allowed
    ("nohead.fasta", "ACD\n>a\nAC\n", read_fasta, FastaFormatError, 0, 1, "before any '>' header"),
    ("noseq.fasta", ">a\nAC\n>b\n\n>c\nAC\n", read_fasta, FastaFormatError, 1, 3, "header line with no sequence"),
    ("noseq_end.fasta", ">a\nAC\n>b\n", read_fasta, FastaFormatError, 1, 3, "header line with no sequence"),
    ("a3m_cols.a3m", ">q\nACDE\n>h\nACkD\n", read_msa, A3MFormatError, 1, 3, "3 match columns"),
    ("a3m_first.a3m", ">q\nacde\n>h\nACkD\n", read_a3m, A3MFormatError, 0, 1, "no match columns"),
    ("nul.fasta", b">a\nAC\x00D\n", read_fasta, FastaFormatError, 0, 2, "0x00"),
    ("latin1.fasta", b">a \xe9\nACD\n", read_fasta, FormatError, None, None, "not a text file"),
    ("junk.bin", bytes(range(256)) * 8, read_msa, FormatError, None, None, None),
]


@pytest.mark.parametrize("name, content, reader, cls, record, line, fragment", CASES, ids=[c[0] for c in CASES])
def test_bad_input_table(tmp_path, name, content, reader, cls, record, line, fragment):
    path = _write(tmp_path, name, content)
    if cls is None:
        reader(path)
        return
    with pytest.raises(cls) as err:
        reader(path)
    exc = err.value
    assert exc.path == str(path)
    assert str(exc).startswith(str(path))
    assert exc.record == record and exc.line == line
    if fragment:
        assert fragment in str(exc)
    assert "\n" not in str(exc)


def test_truncated_gzip(tmp_path, data):
    data = gzip.compress((data("pairing/malk.fasta")).read_bytes())
    path = _write(tmp_path, "cut.fasta.gz", data[: len(data) // 2])
    with pytest.raises(FormatError, match="truncated"):
        read_fasta(path)


def test_corrupt_gzip(tmp_path):
    path = _write(tmp_path, "bad.gz", b"\x1f\x8b\x08\x00" + b"garbage" * 20)
    with pytest.raises(FormatError, match="compressed"):
        read_fasta(path)


def test_ragged_interleaved_in_handle():
    import io

    with pytest.raises(FormatError) as err:
        read_msa(io.StringIO(">a\nACD\n>b\nACDE\n"), format="fasta")
    assert err.value.path == "<handle>"
