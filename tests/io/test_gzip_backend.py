"""Gzip input through either decompressor (isal when importable, stdlib zlib otherwise): same text, same errors."""

import gzip
import logging
import zlib

import pytest

from protlm.errors import FormatError
from protlm.io import _open, iter_fasta, read_fasta
from protlm.io._open import open_text

BACKENDS = ["isal", "zlib"]


@pytest.fixture(params=BACKENDS)
def backend(request, monkeypatch):
    """Force one decompressor for the test (``zlib`` is what a machine without isal gets)."""
    if request.param == "isal":
        isal_zlib = pytest.importorskip("isal.isal_zlib")
        chosen = ("isal (ISA-L)", isal_zlib.decompressobj, isal_zlib.error)
    else:
        chosen = ("zlib (standard library; isal not importable)", zlib.decompressobj, zlib.error)
    monkeypatch.setattr(_open, "_inflate_backend", lambda: chosen)
    return request.param


def test_default_backend_is_isal_when_installed():
    pytest.importorskip("isal.isal_zlib")
    assert _open._inflate_backend()[0].startswith("isal")


def test_same_text_as_gzip_module(backend, data, tmp_path):
    # the real 20k UniProt sample (6.5 MB gzip, many 1 MiB blocks) and a multi-member file
    sample = data("proteomes/uniprot_sample_20k.fasta.gz")
    with open_text(sample) as fh:
        assert fh.read() == gzip.decompress(sample.read_bytes()).decode()
    parts = [b">a\nACDE\n" * 5000, b">b\nKLMN\n", b">c\nPQ\n" * 3]
    multi = tmp_path / "multi.fasta.gz"
    multi.write_bytes(b"".join(gzip.compress(p) for p in parts))
    assert [r.id for r in iter_fasta(multi)][-5:] == ["a", "b", "c", "c", "c"]
    with open_text(multi) as fh:
        assert fh.read() == b"".join(parts).decode()


def test_truncated_gzip_names_file(backend, data, tmp_path):
    data = gzip.compress((data("pairing/malk.fasta")).read_bytes())
    path = tmp_path / "cut.fasta.gz"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(FormatError, match="truncated") as err:
        read_fasta(path)
    assert err.value.path == str(path)


@pytest.mark.parametrize(
    "blob",
    [
        b"\x1f\x8b\x08\x00" + b"garbage" * 20,  # header then junk
        gzip.compress(b">a\nACDE\n" * 100)[:-8] + b"\x00" * 8,  # wrong CRC and length trailer
    ],
    ids=["junk", "bad-crc"],
)
def test_corrupt_gzip_names_file(backend, tmp_path, blob):
    path = tmp_path / "bad.fasta.gz"
    path.write_bytes(blob)
    with pytest.raises(FormatError, match="corrupt or truncated compressed file") as err:
        read_fasta(path)
    assert err.value.path == str(path)
    assert "\n" not in str(err.value)


def test_backend_logged_at_debug(backend, tmp_path, caplog):
    path = tmp_path / "x.fasta.gz"
    path.write_bytes(gzip.compress(b">a\nAC\n"))
    with caplog.at_level(logging.DEBUG, logger="protlm.io._open"):
        read_fasta(path)
    assert any(backend in m and str(path) in m for m in caplog.messages)
