import io

import pytest

from protlm.errors import FormatError, ProtlmError
from protlm.sequencing.reads import (
    KnownSetError,
    PartialRead,
    ReadFormatError,
    parse_known,
    read_reads,
    validate_read,
    write_reads,
)


@pytest.mark.parametrize("given, expected", [("KCYM", "CKMY"), ("kcym", "CKMY"), (" W ", "W"), ("KCYMRHWST", "CHKMRSTWY")])
def test_parse_known_canonical(given, expected):
    assert parse_known(given) == expected


@pytest.mark.parametrize("bad, message", [
    ("", "empty"),
    ("KCZ", "'Z' is not a standard residue"),
    ("KK", "repeats"),
    ("ACDEFGHIKLMNPQRSTVWY", "all 20"),
    ("K-", "'-' is not a standard residue"),
])
def test_parse_known_errors(bad, message):
    with pytest.raises(KnownSetError, match=message) as exc:
        parse_known(bad)
    assert isinstance(exc.value, ProtlmError) and isinstance(exc.value, ValueError)


def test_validate_read_normalises_dot_and_case():
    assert validate_read("x.Kc", "KC") == "XXKC"


@pytest.mark.parametrize("read, pos, letter", [("XKA", 3, "A"), ("LXX", 1, "L"), ("XX-K", 3, "-"), ("XKXM", 4, "M")])
def test_validate_read_names_read_and_position(read, pos, letter):
    with pytest.raises(ReadFormatError) as exc:
        validate_read(read, "KC", read_id="r7", path="reads.fasta", record=6)
    msg = str(exc.value)
    assert "\n" not in msg
    assert msg.startswith("reads.fasta: record 7: read 'r7'")
    assert f"position {pos}: {letter!r}" in msg
    assert isinstance(exc.value, FormatError)


def test_read_reads_file_and_error(tmp_path):
    path = tmp_path / "reads.fasta"
    path.write_text(">a first\nXKX.\nXC\n>b\nKKXQ\n")
    with pytest.raises(ReadFormatError, match=r"record 2: read 'b', position 4: 'Q'"):
        read_reads(path, known="KC")
    path.write_text(">a first\nXKX.\nXC\n>b\nKKXX\n")
    reads = read_reads(path, known="KC")
    assert [r.read for r in reads] == ["XKXXXC", "KKXX"]
    assert reads[0].unknown_positions().tolist() == [0, 2, 3, 4]


def test_read_reads_duplicate_ids(tmp_path):
    path = tmp_path / "reads.fasta"
    path.write_text(">a\nXK\n>a\nKX\n")
    with pytest.raises(ReadFormatError, match="appears twice"):
        read_reads(path, known="K")


def test_empty_read_is_an_error():
    with pytest.raises(ReadFormatError, match="empty"):
        validate_read("", "K", read_id="e")


def test_write_read_roundtrip(tmp_path):
    reads = [PartialRead("a", "XKXC", "a desc"), PartialRead("b", "KKXX")]
    write_reads(reads, tmp_path / "r.fasta")
    back = read_reads(tmp_path / "r.fasta", known="KC")
    assert [(r.id, r.read) for r in back] == [("a", "XKXC"), ("b", "KKXX")]
    handle = io.StringIO()
    write_reads(reads, handle)
    assert handle.getvalue().startswith(">a desc\nXKXC\n")
