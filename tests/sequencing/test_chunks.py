"""Scatter/gather of `protlm sequence`: the identification searched in chunks, q-values computed once over all."""

import json

import numpy as np
import pytest
from click.testing import CliRunner

from protlm.cli import main
from protlm.errors import ChunkError
from protlm.sequencing.chunks import ReadScores, chunk_bounds, gather_scores, parse_chunk, read_scores


@pytest.fixture(scope="module")
def experiment(tmp_path_factory, data):
    """Reads of E. coli proteins (60-residue pieces, Whatprot-like errors) and 300 proteins as the reference."""
    import itertools

    from protlm.io import iter_fasta, write_fasta

    d = tmp_path_factory.mktemp("chunks")
    ref = d / "ref.fasta"
    write_fasta(itertools.islice(iter_fasta(data("proteomes/ecoli_k12_UP000000625.fasta")), 300), ref)
    reads = d / "reads.fasta"
    res = CliRunner().invoke(main, ["simulate", str(ref), "-o", str(reads), "--truth-out", str(d / "truth.fasta"),
                                    "--known", "KCYM", "--efficiency", "0.9", "--fragment", "60", "--errors",
                                    "whatprot", "--max-reads", "240", "--seed", "3"])
    assert res.exit_code == 0, res.output
    return d, reads, ref


def _sequence(args, model):
    res = CliRunner().invoke(main, ["sequence", *map(str, args), "--known", "KCYM", "--efficiency", "0.9",
                                    "--model", str(model), "--overwrite"])
    assert res.exit_code == 0, res.output
    return res


def test_chunked_then_gathered_equals_unchunked(experiment, tiny_model_path):
    d, reads, ref = experiment
    common = ["--reference", ref, "--truth", d / "truth.fasta"]
    _sequence([reads, "-o", d / "whole", *common], tiny_model_path)
    for i in (1, 2, 3):
        res = _sequence([reads, "-o", d / f"chunk{i}", "--reference", ref, "--chunk", f"{i}/3"], tiny_model_path)
        assert "searched" in res.output
        assert sorted(p.name for p in (d / f"chunk{i}").iterdir()) == ["report.json", "scores.tsv"]
    # chunks given out of order: the gather sorts them by their recorded chunk number
    _sequence([reads, "-o", d / "gathered", *common, *[x for i in (3, 1, 2) for x in ("--gather", d / f"chunk{i}")]],
              tiny_model_path)
    for name in ("identifications.tsv", "positions.tsv", "predictions.fasta", "hits.tsv"):
        assert (d / "gathered" / name).read_text() == (d / "whole" / name).read_text(), name
    whole, gathered = (json.loads((d / x / "report.json").read_text()) for x in ("whole", "gathered"))
    assert gathered["options"]["gathered_chunks"] == 3
    ident = whole["reference"]["identification"]
    assert ident["identified"] > 100  # the test is about something: most reads are identified
    for key in ("identified", "identified_at_0.05", "decoy_winners", "reads_with_candidates"):
        assert gathered["reference"]["identification"][key] == ident[key]
    assert gathered["identification_evaluation"] == whole["identification_evaluation"]
    assert gathered["accuracy_masked"] == whole["accuracy_masked"]


def test_per_chunk_q_values_would_differ(experiment):
    """Why the gather recomputes q-values: one chunk's own q-values are not the experiment's."""
    from protlm.io import iter_fasta
    from protlm.sequencing.identify import identify_reads, q_values
    from protlm.sequencing.index import build_index
    from protlm.sequencing.reads import read_reads

    d, reads, ref = experiment
    rs = read_reads(reads, known="KCYM")
    idx = build_index(ref)
    whole = identify_reads(rs, idx, known="KCYM", efficiency=0.9)
    lo, hi = chunk_bounds(len(rs), 1, 3)
    part = identify_reads(rs[lo:hi], idx, known="KCYM", efficiency=0.9)
    # the raw search results are the same per read, whatever the other reads
    np.testing.assert_array_equal(part.scores.score, whole.scores.score[lo:hi])
    np.testing.assert_array_equal(part.scores.counts, whole.scores.counts[lo:hi])
    assert not np.array_equal(part.q_value, whole.q_value[lo:hi])
    np.testing.assert_array_equal(q_values(whole.score, whole.decoy), whole.q_value)
    assert len(list(iter_fasta(ref))) == idx.n_sequences


def test_scores_round_trip_bit_for_bit(tmp_path):
    s = ReadScores(("a", "b", "c"), np.array([1 / 3, -np.inf, 2e-300]), np.array([False, False, True]),
                   np.array([-np.inf, np.pi, 0.1]), np.arange(24).reshape(3, 8) - 1, {"chunk": 2, "n_chunks": 2},
                   np.array([np.e, -np.inf, -1e-310]))
    s.write(tmp_path / "s.tsv")
    back = read_scores(tmp_path / "s.tsv")
    assert back.read_ids == s.read_ids and back.info == s.info
    for a in ("score", "decoy", "runner", "counts", "competitors"):
        np.testing.assert_array_equal(getattr(back, a), getattr(s, a))


def _chunk(tmp_path, i, n, ids, first, **info):
    s = ReadScores(tuple(ids), np.zeros(len(ids)), np.zeros(len(ids), bool), np.zeros(len(ids)),
                   np.zeros((len(ids), 8), np.int64), {"chunk": i, "n_chunks": n, "first_read": first, "known": "CKMY",
                                                      **info})
    s.write(tmp_path / f"{i}.tsv")
    return tmp_path / f"{i}.tsv"


def test_gather_refuses_missing_duplicate_and_mismatched_chunks(tmp_path):
    a, b = _chunk(tmp_path, 1, 2, ["r1", "r2"], 0), _chunk(tmp_path, 2, 2, ["r3"], 2)
    assert gather_scores([b, a]).read_ids == ("r1", "r2", "r3")
    with pytest.raises(ChunkError, match=r"need each of 1..2 once"):
        gather_scores([a])
    with pytest.raises(ChunkError, match=r"need each of 1..2 once"):
        gather_scores([a, a, b])
    c = _chunk(tmp_path, 2, 2, ["r3"], 2, known="KC")
    with pytest.raises(ChunkError, match="chunk 2 was searched with other known"):
        gather_scores([a, c])
    e = _chunk(tmp_path, 2, 2, ["r3"], 1)
    with pytest.raises(ChunkError, match="does not start where chunk 1 ends"):
        gather_scores([a, e])
    (tmp_path / "bad.tsv").write_text("read_id\tscore\n")
    with pytest.raises(ChunkError, match=r"bad.tsv, line 1: not a protlm scores file"):
        read_scores(tmp_path / "bad.tsv")


@pytest.mark.parametrize("text", ["3", "0/2", "3/2", "a/b"])
def test_parse_chunk_rejects(text):
    with pytest.raises(ChunkError, match="chunk"):
        parse_chunk(text)


def test_gather_of_other_reads_is_one_line_exit_2(experiment, tiny_model_path, tmp_path):
    d, reads, ref = experiment
    _sequence([reads, "-o", tmp_path / "c1", "--reference", ref, "--chunk", "1/1"], tiny_model_path)
    other = tmp_path / "other.fasta"
    text = reads.read_text().splitlines()
    other.write_text("\n".join(text[2:]) + "\n")  # one read fewer
    res = CliRunner().invoke(main, ["sequence", str(other), "-o", str(tmp_path / "g"), "--known", "KCYM",
                                    "--efficiency", "0.9", "--reference", str(ref), "--gather", str(tmp_path / "c1"),
                                    "--model", str(tiny_model_path)])
    assert res.exit_code == 2, res.output
    assert "scores of 240 reads given for 239 reads" in res.output and "Traceback" not in res.output
    res = CliRunner().invoke(main, ["sequence", str(reads), "-o", str(tmp_path / "g"), "--known", "KCYM",
                                    "--chunk", "1/2", "--model", str(tiny_model_path)])
    assert res.exit_code == 2 and "need --reference" in res.output


def test_scores_of_another_search_are_refused(experiment, monkeypatch):
    """Scores record the search's settings and code digest; gathering them into another search fails."""
    from protlm.io import iter_fasta
    from protlm.sequencing import identify
    from protlm.sequencing.index import build_index

    d, reads, ref = experiment
    items = [(r.id, r.sequence) for r in iter_fasta(reads)][:20]
    idx = build_index(ref)
    ids = identify.identify_reads(items, idx, known="KCYM", efficiency=0.9)
    assert ids.scores.info["search"]["code"] == identify._search_code_digest()
    again = identify.identify_reads(items, idx, known="KCYM", efficiency=0.9, scores=ids.scores)
    np.testing.assert_array_equal(again.q_value, ids.q_value)
    monkeypatch.setattr(identify, "MAX_CANDIDATES", 7)
    with pytest.raises(ChunkError, match="computed with search"):
        identify.identify_reads(items, idx, known="KCYM", efficiency=0.9, scores=ids.scores)


def test_scores_of_an_older_protlm_are_refused_with_what_to_do(tmp_path):
    old = tmp_path / "scores.tsv"
    old.write_text('# {"chunk": 1}\nread_id\tscore\tdecoy\trunner\tseq\tstart\thi\tlo\tn_letters\tn_wrong\t'
                   'n_ref_known\tn_missed\nr1\t3.5\t0\t-inf\t0\t4\t0\t1\t5\t0\t6\t1\n')
    with pytest.raises(ChunkError, match=r"scores.tsv, line 3: scores of an older protlm .*search the chunks again"):
        read_scores(old)
