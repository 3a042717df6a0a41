"""protlm's readers against other tools' own format test files (tests/data/external).

For every file there is a row in ``EXPECTED``: either protlm reads it, and then
it reads the same records and columns as the reference reader (Biopython's
``Bio.AlignIO`` / ``Bio.SeqIO``, with hh-suite's rules for A3M annotation
rows), or the file is invalid and protlm says so in one line naming the file,
record and line, in the library and in ``protlm inspect``.  Every committed
file must have a row, so adding a file without deciding its outcome fails.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import NamedTuple

import pytest
from Bio import AlignIO, SeqIO
from click.testing import CliRunner

from protlm.cli import main
from protlm.errors import A3MFormatError, FormatError, StockholmFormatError
from protlm.io import read_msa
from protlm.io.a3m import iter_a3m, read_a3m
from protlm.io.clustal import read_clustal
from protlm.io.fasta import iter_fasta
from protlm.io.general import detect_format
from protlm.io.stockholm import iter_stockholm

EXTERNAL = Path(__file__).resolve().parents[1] / "data" / "external"


class Rejected(NamedTuple):
    """``read_msa(path)`` raises ``cls``, naming 1-based ``record`` and ``line`` (None: the file has none)."""

    cls: type
    record: int | None
    line: int | None
    fragment: str


# path under tests/data/external -> the format protlm detects (a string: protlm reads the
# file as the reference reader does), or Rejected(...) for an invalid file.
EXPECTED = {
    # Biopython Tests/Clustalw: Clustal from several aligners, and the same alignments as FASTA/A2M.
    "biopython/Tests/Clustalw/clustalw.a2m": "fasta",
    "biopython/Tests/Clustalw/clustalw.aln": "clustal",
    "biopython/Tests/Clustalw/clustalw.fa": "fasta",
    "biopython/Tests/Clustalw/hedgehog.aln": "clustal",
    "biopython/Tests/Clustalw/kalign.a2m": "fasta",
    "biopython/Tests/Clustalw/kalign.aln": "clustal",
    "biopython/Tests/Clustalw/kalign.fa": "fasta",
    "biopython/Tests/Clustalw/msaprobs.a2m": "fasta",
    "biopython/Tests/Clustalw/msaprobs.aln": "clustal",
    "biopython/Tests/Clustalw/msaprobs.fa": "fasta",
    "biopython/Tests/Clustalw/muscle.a2m": "fasta",
    "biopython/Tests/Clustalw/muscle.aln": "clustal",
    "biopython/Tests/Clustalw/muscle.fa": "fasta",
    "biopython/Tests/Clustalw/odd_consensus.aln": "clustal",
    "biopython/Tests/Clustalw/opuntia.aln": "clustal",
    "biopython/Tests/Clustalw/probcons.a2m": "fasta",
    "biopython/Tests/Clustalw/probcons.aln": "clustal",
    "biopython/Tests/Clustalw/probcons.fa": "fasta",
    "biopython/Tests/Clustalw/promals3d.aln": "clustal",
    "biopython/Tests/Clustalw/protein.aln": "clustal",
    # Biopython Tests/Fasta: CRLF files (aster.pro, *.nu ...), gzip, duplicate ids, lowercase.
    "biopython/Tests/Fasta/aster.pro": "fasta",
    # BLAST-style '#'/';'/'!' comment lines inside a record: not FASTA (Biopython's 'fasta'
    # parser rejects the file too; only its 'fasta-blast' variant reads it).  The leading
    # '#' line makes it look like an A3M with a ColabFold header.
    "biopython/Tests/Fasta/aster_blast.pro": Rejected(A3MFormatError, 1, 3, "character '#'"),
    "biopython/Tests/Fasta/aster_no_wrap.pro": "fasta",
    # Free text before the first '>' (Biopython: 'fasta' rejects it, 'fasta-pearson' skips it).
    # Detection fails on line 1, before any record.
    "biopython/Tests/Fasta/aster_pearson.pro": Rejected(FormatError, None, 1, "unknown format"),
    "biopython/Tests/Fasta/centaurea.nu": "fasta",
    "biopython/Tests/Fasta/dups.fasta": "fasta",
    "biopython/Tests/Fasta/elderberry.nu": "fasta",
    "biopython/Tests/Fasta/f001": "fasta",
    "biopython/Tests/Fasta/f002": "fasta",
    "biopython/Tests/Fasta/f003.fa": "fasta",
    "biopython/Tests/Fasta/fa01": "fasta",
    "biopython/Tests/Fasta/flowers.pro.gz": "fasta",
    "biopython/Tests/Fasta/lavender.nu": "fasta",
    "biopython/Tests/Fasta/loveliesbleeding.pro": "fasta",
    "biopython/Tests/Fasta/lupine.nu": "fasta",
    # unaligned, with lowercase: once sniffed as A3M and rejected
    "biopython/Tests/Fasta/nucleotide_lib.fa": "fasta",
    "biopython/Tests/Fasta/phlox.nu": "fasta",
    "biopython/Tests/Fasta/protein_lib.fa": "fasta",
    "biopython/Tests/Fasta/rose.pro": "fasta",
    "biopython/Tests/Fasta/rosemary.pro": "fasta",
    "biopython/Tests/Fasta/sweetpea.nu": "fasta",
    "biopython/Tests/Fasta/wisteria.nu": "fasta",
    # Biopython Tests/Stockholm: Pfam, Rfam, CATH, HMMER output, interleaved blocks.
    "biopython/Tests/Stockholm/cath1.sth": "stockholm",
    "biopython/Tests/Stockholm/cath2.sth": "stockholm",
    "biopython/Tests/Stockholm/cath3.sth": "stockholm",
    "biopython/Tests/Stockholm/example.sth": "stockholm",
    "biopython/Tests/Stockholm/example_nonstandardannotations.sth": "stockholm",
    # '#=GR_name_IN ...' (no space after #=GR) is a comment: once rejected as a #=GR line
    "biopython/Tests/Stockholm/funny.sth": "stockholm",
    "biopython/Tests/Stockholm/globins45.ali": "stockholm",
    "biopython/Tests/Stockholm/pfam1.seed.txt": "stockholm",
    "biopython/Tests/Stockholm/pfam2.seed.txt": "stockholm",
    "biopython/Tests/Stockholm/pfam3.seed.txt": "stockholm",
    "biopython/Tests/Stockholm/pfam4.seed.txt": "stockholm",
    "biopython/Tests/Stockholm/pfam5.seed.txt": "stockholm",
    "biopython/Tests/Stockholm/pfam6.seed.txt": "stockholm",
    "biopython/Tests/Stockholm/pfam7.seed.txt": "stockholm",
    "biopython/Tests/Stockholm/pfam8.seed.txt": "stockholm",
    "biopython/Tests/Stockholm/pfam9.seed.txt": "stockholm",
    "biopython/Tests/Stockholm/rfam1.seed.txt": "stockholm",
    "biopython/Tests/Stockholm/rfam2.seed.txt": "stockholm",
    "biopython/Tests/Stockholm/rfam3.seed.txt": "stockholm",
    "biopython/Tests/Stockholm/rfam4.seed.txt": "stockholm",
    "biopython/Tests/Stockholm/rfam5.seed.txt": "stockholm",
    "biopython/Tests/Stockholm/simple.sth": "stockholm",
    # ColabFold test-data: one-row A3Ms without a final newline; empty inputs, which
    # ColabFold's own get_queries rejects too ("... is empty"): no record or line to name.
    "colabfold/test-data/P54025.fasta": "fasta",
    "colabfold/test-data/a3m/5AWL1.a3m": "a3m",
    "colabfold/test-data/a3m/6A5J.a3m": "a3m",
    "colabfold/test-data/a3m/empty.a3m": Rejected(FormatError, None, None, "empty file"),
    "colabfold/test-data/batch/input/5AWL_1.fasta": "fasta",
    "colabfold/test-data/batch/input/6A5J.fasta": "fasta",
    "colabfold/test-data/batch/input/empty.fasta": Rejected(FormatError, None, None, "empty file"),
    # HMMER testsuite and tutorial: Stockholm with RF/PP/SS lines, several alignments (minifam),
    # aligned FASTA (.afa), DNA.
    "hmmer/testsuite/20aa-alitest.afa": "fasta",
    "hmmer/testsuite/20aa-alitest.fa": "fasta",
    "hmmer/testsuite/20aa-alitest.sto": "stockholm",
    "hmmer/testsuite/20aa.sto": "stockholm",
    "hmmer/testsuite/3box-alitest.fa": "fasta",
    "hmmer/testsuite/3box.sto": "stockholm",
    "hmmer/testsuite/Caudal_act.sto": "stockholm",
    "hmmer/testsuite/LuxC.sto": "stockholm",
    "hmmer/testsuite/M1.sto": "stockholm",
    "hmmer/testsuite/PAX8_HUMAN": "fasta",
    "hmmer/testsuite/PSE.sto": "stockholm",
    "hmmer/testsuite/Patched.sto": "stockholm",
    "hmmer/testsuite/RRM_1.sto": "stockholm",
    "hmmer/testsuite/SMC_N.sto": "stockholm",
    "hmmer/testsuite/XYPPX.sto": "stockholm",
    "hmmer/testsuite/ecori.fa": "fasta",
    "hmmer/testsuite/ecori.sto": "stockholm",
    "hmmer/testsuite/minifam": "stockholm",
    "hmmer/testsuite/rndseq400-10.fa": "fasta",
    "hmmer/tutorial/HBB_HUMAN": "fasta",
    "hmmer/tutorial/MADE1.sto": "stockholm",
    "hmmer/tutorial/Pkinase.sto": "stockholm",
    "hmmer/tutorial/fn3.sto": "stockholm",
    "hmmer/tutorial/globins4.sto": "stockholm",
    "hmmer/tutorial/globins45.fa": "fasta",
    # Written for protlm after hh-suite's files (GPL, not copied; see README.md).
    "synthetic/hhsuite_consensus.a3m": "a3m",
    "synthetic/hhsuite_diverging_match_states.a3m": Rejected(A3MFormatError, 3, 5, "29 match columns"),
    "synthetic/hhsuite_wrapped_ss.a3m": "a3m",
    "synthetic/stockholm_gr_empty.sto": Rejected(StockholmFormatError, 1, 5, "#=GR line needs"),
}

_NOT_DATA = {"README.md", "LICENSE", "LICENSE.rst"}
READ = sorted(k for k, v in EXPECTED.items() if isinstance(v, str))
REJECTED = sorted(k for k, v in EXPECTED.items() if isinstance(v, Rejected))


def _open(path: Path):
    return gzip.open(path, "rt") if path.read_bytes()[:2] == b"\x1f\x8b" else open(path)


def _is_hhsuite_annotation(record_id: str) -> bool:
    """hh-suite's rule (src/hhalignment.cpp, scripts/a3m.py): ss_*/sa_* rows and NAME_consensus are not sequences."""
    return record_id.startswith(("ss_", "sa_")) or record_id.endswith("_consensus")


def _reference(path: Path, fmt: str) -> list[tuple[list, list]]:
    """``[(ids, rows), ...]`` per alignment, as the reference reader has them."""
    if fmt in ("stockholm", "clustal"):
        return [([r.id for r in a], [str(r.seq) for r in a]) for a in AlignIO.parse(str(path), fmt)]
    with _open(path) as fh:
        # 'fasta-pearson' skips the text before the first '>', as hh-suite does with an A3M's '#' line
        # ('fasta-blast' would too, but Biopython 1.88 repeats its first title for every record)
        records = list(SeqIO.parse(fh, "fasta-pearson" if fmt == "a3m" else "fasta"))
    if fmt == "a3m":
        records = [r for r in records if not _is_hhsuite_annotation(r.id)]
    return [([r.id for r in records], [str(r.seq) for r in records])]


def _protlm(path: Path, fmt: str) -> list[tuple[list, list]]:
    if fmt == "stockholm":
        # Biopython writes Stockholm's '.' gaps as '-'
        return [(list(m.ids), [s.replace(".", "-") for s in m.sequences]) for m in iter_stockholm(path, keep_insertions=True)]
    if fmt == "clustal":
        m = read_clustal(path)
        return [(list(m.ids), m.sequences)]
    records = list(iter_a3m(path) if fmt == "a3m" else iter_fasta(path))
    return [([r.id for r in records], [r.sequence for r in records])]


def test_every_file_has_an_expected_outcome():
    on_disk = {p.relative_to(EXTERNAL).as_posix() for p in EXTERNAL.rglob("*") if p.is_file() and p.name not in _NOT_DATA}
    assert on_disk == set(EXPECTED), "add a row to EXPECTED for each new file (and remove rows of deleted ones)"


@pytest.mark.parametrize("rel", READ)
def test_reads_what_the_reference_reader_reads(rel):
    path = EXTERNAL / rel
    fmt = EXPECTED[rel]
    assert detect_format(path) == fmt
    reference = _reference(path, fmt)
    assert reference and all(ids for ids, _ in reference)
    assert _protlm(path, fmt) == reference


@pytest.mark.parametrize("rel", sorted(k for k in READ if EXPECTED[k] == "a3m"))
def test_a3m_match_columns_are_the_rows_without_insertions(rel):
    path = EXTERNAL / rel
    [(ids, rows)] = _reference(path, "a3m")
    msa = read_a3m(path)
    assert list(msa.ids) == ids
    assert msa.sequences == ["".join(c for c in row if not (c.islower() or c == ".")) for row in rows]


@pytest.mark.parametrize("rel", READ)
def test_inspect_agrees_on_the_row_count(rel):
    path = EXTERNAL / rel
    res = CliRunner().invoke(main, ["inspect", str(path), "--json"])
    assert res.exit_code == 0, res.output
    report = json.loads(res.output)
    (ids, _), *_ = _reference(path, EXPECTED[rel])
    assert report["format"] == EXPECTED[rel] and report["n_sequences"] == len(ids)


def _check_message(message: str, path: Path, expected: Rejected) -> None:
    assert "\n" not in message
    assert message.startswith(str(path))
    assert expected.fragment in message
    if expected.record is not None:
        assert f"record {expected.record}," in message
    else:
        assert "record" not in message
    if expected.line is not None:
        assert f"line {expected.line}:" in message
    else:
        assert "line" not in message


@pytest.mark.parametrize("rel", REJECTED)
def test_invalid_file_is_one_line_naming_file_record_and_line(rel):
    path = EXTERNAL / rel
    expected = EXPECTED[rel]
    with pytest.raises(FormatError) as info:
        read_msa(path)
    assert type(info.value) is expected.cls
    _check_message(str(info.value), path, expected)


@pytest.mark.parametrize("rel", REJECTED)
def test_inspect_rejects_invalid_file_with_one_line(rel):
    path = EXTERNAL / rel
    res = CliRunner().invoke(main, ["inspect", str(path)])
    assert res.exit_code == 2
    assert "Traceback" not in res.output
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("protlm: error: ")
    _check_message(lines[0].removeprefix("protlm: error: "), path, expected=EXPECTED[rel])
