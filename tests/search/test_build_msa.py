"""protlm.search: a search with a known answer, A3M round trips (protlm, Biopython), databases, filters, engines."""

from __future__ import annotations

import gzip
import io
import shutil
from pathlib import Path

import pytest

from protlm.errors import FastaFormatError, SearchError, ToolNotFoundError
from protlm.io import read_a3m, write_a3m
from protlm.io.fasta import FastaRecord, iter_fasta, write_fasta
from protlm.search import build_msa, iter_database, read_query
from protlm.search.database import database_kind

ROOT = Path(__file__).resolve().parents[2]
QUERIES = ROOT / "data" / "envz_ompr.fasta"
BUNDLED_DB = ROOT / "data" / "hk_rr_uniprot.fasta.gz"
NO_MMSEQS = "MMseqs2 engine not tested: the 'mmseqs' binary is not on PATH (apt-get install mmseqs2)"

OMPR = read_query(QUERIES, record=2)
ENVZ = read_query(QUERIES, record=1)


def _mutate(seq: str) -> str:
    """Every 6th residue changed (A<->S, other letters -> A): 83 % identity, no new similarity."""
    out = []
    for i, c in enumerate(seq):
        out.append(("S" if c == "A" else "A") if i % 6 == 5 else c)
    return "".join(out)


def _known_answer_db(path: Path):
    """A tiny UniProt database: one planted homolog of OmpR with a known alignment, plus unrelated proteins.

    The homolog is OmpR residues 11-130, every 6th residue changed, with 'WWWW' inserted after
    residue 70.  Returns the A3M row the search must produce for it.
    """
    q = OMPR.sequence
    left, right = _mutate(q[10:70]), _mutate(q[70:130])
    planted = left + "WWWW" + right
    unrelated = [r for r in iter_fasta(BUNDLED_DB) if "histidine kinase" not in r.description.lower()
                 and "regulator" not in r.description.lower()][:30]
    unrelated = [r for r in unrelated if "Response" not in r.description and "OX=" not in r.description][:20]
    records = [FastaRecord("tr|PLANT1|PLANT1_ECOLI", "tr|PLANT1|PLANT1_ECOLI Planted homolog OS=Escherichia coli OX=562 PE=4 SV=1",
                           planted)] + unrelated
    write_fasta(records, path, width=60)
    expected = "-" * 10 + left + "wwww" + right + "-" * (len(q) - 130)
    return expected, len(unrelated)


@pytest.fixture(scope="module")
def known(tmp_path_factory):
    path = tmp_path_factory.mktemp("db") / "tiny.fasta"
    expected, n_unrelated = _known_answer_db(path)
    return path, expected, n_unrelated


@pytest.mark.parametrize("iterations", [1, 3])
def test_known_answer_pyhmmer(known, iterations):
    path, expected, n_unrelated = known
    result = build_msa(OMPR, path, iterations=iterations)
    assert [h.accession for h in result.hits] == ["PLANT1"]
    hit = result.hits[0]
    assert hit.row == expected
    assert (hit.taxid, hit.organism) == (562, "Escherichia coli")
    assert (hit.query_start, hit.query_end, hit.target_start, hit.target_end) == (11, 130, 1, 124)
    assert hit.coverage == pytest.approx(120 / len(OMPR.sequence))
    assert hit.identity == pytest.approx(100 / 120)
    assert result.counts["n_database"] == 1 + n_unrelated and result.counts["n_no_taxonomy"] == 0
    assert hit.header.startswith("tr|PLANT1|PLANT1_ECOLI/1-124 evalue=") and " OX=562 " in hit.header


@pytest.mark.skipif(shutil.which("mmseqs") is None, reason=NO_MMSEQS)
def test_known_answer_mmseqs(known):
    path, expected, _ = known
    result = build_msa(OMPR, path, engine="mmseqs2", iterations=1)
    assert [h.accession for h in result.hits] == ["PLANT1"]
    assert result.hits[0].row == expected and result.hits[0].taxid == 562


def test_mmseqs_missing_binary_is_one_line(known, monkeypatch):
    monkeypatch.setenv("PATH", "")
    with pytest.raises(ToolNotFoundError, match="'mmseqs' binary.*apt-get install mmseqs2"):
        build_msa(OMPR, known[0], engine="mmseqs2")


@pytest.fixture(scope="module")
def ompr_bundled():
    return build_msa(OMPR, BUNDLED_DB, iterations=2)


def test_a3m_round_trips_through_protlm(ompr_bundled, tmp_path):
    path = tmp_path / "ompr.a3m"
    ompr_bundled.write(path)
    msa = read_a3m(path, keep_insertions=True)
    assert msa.n_sequences == 1 + len(ompr_bundled)
    assert msa.ids[0] == OMPR.id and msa.sequences[0].replace(".", "") == OMPR.sequence
    assert list(msa.descriptions) == [r.description for r in ompr_bundled.records()]
    matches = read_a3m(path)
    assert matches.n_columns == len(OMPR.sequence)
    assert [s for s in matches.sequences[1:]] == [h.row.translate({c: None for c in range(97, 123)}) for h in ompr_bundled.hits]
    again = io.StringIO()
    write_a3m(msa, again)
    assert again.getvalue() == path.read_text()
    assert any(c.islower() for h in ompr_bundled.hits for c in h.row)  # insertions are there, and lowercase


def test_a3m_round_trips_through_biopython(ompr_bundled, tmp_path):
    from Bio import Align, SeqIO

    path = tmp_path / "ompr.a3m"
    ompr_bundled.write(path)
    records = list(SeqIO.parse(path, "fasta"))
    assert [str(r.seq) for r in records] == [OMPR.sequence] + [h.row for h in ompr_bundled.hits]
    assert [r.description for r in records] == [r.description for r in ompr_bundled.records()]
    # protlm's A2M expansion of the A3M, read by Biopython's A2M parser: the query's columns are the match states
    a2m = tmp_path / "ompr.a2m"
    msa = read_a3m(path, keep_insertions=True)
    write_fasta([FastaRecord(i, d, s) for i, d, s in zip(msa.ids, msa.descriptions, msa.sequences)], a2m)
    alignment = Align.read(a2m, "a2m")
    states = alignment.column_annotations["state"]
    assert states.count("D") == len(OMPR.sequence)
    for k, hit in enumerate(ompr_bundled.hits, 1):
        row = alignment[k]
        assert "".join(c for c, s in zip(row, states) if s == "D") == "".join(c for c in hit.row if not c.islower())


def test_hits_carry_taxonomy_and_count_those_without(ompr_bundled):
    by_taxid = [h for h in ompr_bundled.hits if h.taxid is not None]
    assert by_taxid and all(h.taxid == 83333 for h in by_taxid)  # the E. coli records have OX=
    n_none = sum(h.taxid is None for h in ompr_bundled.hits)
    assert n_none == ompr_bundled.counts["n_no_taxonomy"] > 0  # the UniProt sample's records have OS= only
    assert all(h.organism for h in ompr_bundled.hits)
    df = ompr_bundled.to_dataframe()
    assert list(df["rank"]) == list(range(1, len(df) + 1)) and df["evalue"].is_monotonic_increasing
    assert int(df["taxid"].isna().sum()) == n_none


def test_filters_and_limits(ompr_bundled):
    full = ompr_bundled
    cov = build_msa(OMPR, BUNDLED_DB, iterations=2, min_coverage=0.8)
    assert all(h.coverage >= 0.8 for h in cov.hits)
    assert len(cov) == sum(h.coverage >= 0.8 for h in full.hits) and cov.counts["n_low_coverage"] == len(full) - len(cov)
    ident = build_msa(OMPR, BUNDLED_DB, iterations=2, min_identity=0.3, max_identity=0.9)
    assert all(0.3 <= h.identity <= 0.9 for h in ident.hits) and ident.counts["n_identity"] > 0
    top = build_msa(OMPR, BUNDLED_DB, iterations=2, max_hits=5)
    assert [h.id for h in top.hits] == [h.id for h in full.hits[:5]] and top.counts["n_over_max_hits"] == len(full) - 5


def test_threads_do_not_change_the_hits(ompr_bundled):
    two = build_msa(OMPR, BUNDLED_DB, iterations=2, threads=2)
    assert [(h.id, h.row, round(h.evalue, 200)) for h in two.hits] == [(h.id, h.row, round(h.evalue, 200)) for h in ompr_bundled.hits]


def test_callback_reports_iterations(known):
    calls = []
    build_msa(OMPR, known[0], iterations=2, callback=lambda done, total=None, **info: calls.append((done, total, info)))
    assert [c[:2] for c in calls if c[2].get("stage") == "iteration"][0] == (1, 2)


@pytest.mark.parametrize(
    "options, message",
    [
        ({"engine": "blast"}, "unknown engine 'blast'; choose one of: pyhmmer, mmseqs2"),
        ({"iterations": 0}, "iterations must be at least 1"),
        ({"evalue": 0}, "evalue must be positive"),
        ({"min_coverage": 1.5}, "min_coverage must be between 0 and 1"),
        ({"min_identity": 0.9, "max_identity": 0.5}, "min_identity <= max_identity"),
        ({"max_hits": 0}, "max_hits must be at least 1"),
    ],
)
def test_bad_options(known, options, message):
    with pytest.raises(SearchError, match=message):
        build_msa(OMPR, known[0], **options)


def test_bad_query(known):
    with pytest.raises(SearchError, match="query 'q': character '1' at position 3"):
        build_msa(FastaRecord("q", "q", "MK1V"), known[0])


def test_read_query_needs_record_when_several(tmp_path):
    with pytest.raises(FastaFormatError, match="holds 2 records; choose the query with --record N"):
        read_query(QUERIES)
    with pytest.raises(FastaFormatError, match="--record 3 asked for"):
        read_query(QUERIES, record=3)
    assert read_query(QUERIES, record=1).id == "sp|P0AEJ4|ENVZ_ECOLI"


@pytest.mark.parametrize("kind, header, expected", [
    ("uniprot", "sp|P1|X_ECOLI Protein X OS=Escherichia coli OX=562 PE=1 SV=1", ("P1", 562, "Escherichia coli")),
    ("uniref", "UniRef90_P1 Protein X n=3 Tax=Escherichia coli TaxID=562 RepID=X_ECOLI", ("UniRef90_P1", 562, "Escherichia coli")),
    ("fasta", "myseq some protein TaxID=9606", ("myseq", 9606, None)),
    ("fasta", "myseq some protein", ("myseq", None, None)),
])
@pytest.mark.parametrize("compress", [False, True])
def test_database_kinds(tmp_path, kind, header, expected, compress):
    text = f">{header}\nMKVLA\n".encode()
    path = tmp_path / "db.fasta"
    path.write_bytes(gzip.compress(text) if compress else text)
    assert database_kind(path) == kind
    (rec,) = list(iter_database(path))
    assert (rec.accession, rec.taxid, rec.organism) == expected and rec.sequence == "MKVLA"


def test_database_that_is_not_fasta(tmp_path):
    path = tmp_path / "db.txt"
    path.write_text("just some text\n")
    with pytest.raises(FastaFormatError, match="db.txt"):
        build_msa(OMPR, path)


def test_envz_hits_cover_the_kinase_domains():
    result = build_msa(ENVZ, BUNDLED_DB, iterations=1, max_hits=20)
    assert len(result) == 20
    # HisKA starts near EnvZ residue 223: every HK hit aligns there, not over the periplasmic domain
    assert all(h.query_end > 300 for h in result.hits)


def test_search_is_torch_free(known, tmp_path):
    import subprocess
    import sys

    out = tmp_path / "x.a3m"
    code = (f"import sys, protlm.search as s; s.build_msa('{OMPR.sequence}', r'{known[0]}', iterations=1)"
            f".write(r'{out}'); print('torch' in sys.modules, 'pandas' in sys.modules)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "False False"
