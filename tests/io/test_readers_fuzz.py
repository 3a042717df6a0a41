"""Mutated real files: every reader returns clean records or raises a FormatError, nothing else."""

import io

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from protlm.errors import FormatError
from protlm.io import iter_uniref_xml, read_fasta, read_msa
from protlm.io.inspection import inspect_file

SEEDS = {
    "a3m": "msa/UniRef50_E9K9Y4.a3m",
    "stockholm": "msa/globins4.sto",
    "clustal": "msa/muscle.aln",
    "fasta": "msa/PF00072_seed_hmmalign_no_inserts.fasta",
}
_ROOT = __import__("pathlib").Path(__file__).resolve().parents[1] / "data"  # bundled copies: every clone has them
_BYTES = {k: (_ROOT / v).read_bytes()[:3000] for k, v in SEEDS.items()}
_XML = (_ROOT / "uniref/UniRef90_P99999.xml").read_bytes()[:4000]

_INTERESTING = [b">", b"\n", b"\r\n", b"-", b".", b"*", b"#", b"//", b"\x00", b"\xff", b" ", b"a", b"Z", b"\x1f\x8b", b"# STOCKHOLM 1.0\n", b"#=GS x DE y\n"]


@st.composite
def mutated(draw, data: bytes):
    data = bytearray(data)
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.sampled_from(["delete", "insert", "replace", "truncate", "duplicate"]))
        if not data:
            break
        pos = draw(st.integers(0, len(data) - 1))
        if op == "delete":
            end = min(len(data), pos + draw(st.integers(1, 40)))
            del data[pos:end]
        elif op == "insert":
            data[pos:pos] = draw(st.sampled_from(_INTERESTING) | st.binary(min_size=1, max_size=8))
        elif op == "replace":
            data[pos] = draw(st.integers(0, 255))
        elif op == "truncate":
            del data[pos:]
        else:
            end = min(len(data), pos + draw(st.integers(1, 200)))
            data[pos:pos] = data[pos:end]
    return bytes(data)


def _check_records(records):
    for r in records:
        assert isinstance(r.id, str) and isinstance(r.sequence, str) and r.sequence


@pytest.mark.parametrize("fmt", sorted(SEEDS))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_mutations_give_records_or_format_error(fmt, data):
    blob = data.draw(mutated(_BYTES[fmt]))
    try:
        msa = read_msa(io.BytesIO(blob))
        assert msa.n_sequences >= 1
        assert msa.array.shape[0] == len(msa.ids)
    except FormatError:
        pass
    try:
        _check_records(read_fasta(io.BytesIO(blob)))
    except FormatError:
        pass
    try:
        report = inspect_file(io.BytesIO(blob))
        assert report.n_sequences >= 1
    except FormatError:
        pass


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_uniref_xml_mutations(data):
    blob = data.draw(mutated(_XML))
    try:
        for e in iter_uniref_xml(io.BytesIO(blob)):
            assert e.cluster_id
    except FormatError:
        pass
