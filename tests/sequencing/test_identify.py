"""Identification with a target-decoy FDR: decoys in the index, q-values, calibration on simulated reads."""

import numpy as np
import pytest

from protlm.io import iter_fasta
from protlm.sequencing.error_model import ErrorModel
from protlm.sequencing.evaluate import evaluate_identifications
from protlm.sequencing.identify import identify_reads, q_values
from protlm.sequencing.index import build_index, load_index
from protlm.sequencing.simulate import simulate_reads


@pytest.fixture(scope="module")
def ecoli(data):
    return list(iter_fasta(data("proteomes/ecoli_k12_UP000000625.fasta")))


@pytest.fixture(scope="module")
def half_index(ecoli):
    """Index of every other E. coli protein: the rest are absent from the reference."""
    import io

    text = "".join(f">{r.id}\n{r.sequence}\n" for r in ecoli[::2])
    return build_index(io.StringIO(text))


def test_decoys_written_to_and_read_from_the_index(tmp_path, half_index):
    assert half_index.decoy_method == "reverse"
    path = half_index.save(tmp_path / "ref.npz")
    back = load_index(path)
    assert np.array_equal(back.decoy_residues, half_index.decoy_residues)
    d = back.decoys()
    assert d.ids[0] == "decoy_" + back.ids[0] and d.sequence(3) == back.sequence(3)[::-1]
    shuffled = build_index(__import__("io").StringIO(">a\nMKCYAAAALLLL\n"), decoys="shuffle")
    assert sorted(shuffled.decoys().sequence(0)) == sorted("MKCYAAAALLLL")


def test_q_values_monotone_in_score():
    rng = np.random.default_rng(0)
    scores = rng.normal(size=500)
    decoy = rng.random(500) < 0.3
    q = q_values(scores, decoy)
    order = np.argsort(-scores)
    assert np.all(np.diff(q[order]) >= -1e-12)
    assert q.min() > 0 and q.max() <= 1


@pytest.mark.parametrize("errors", [ErrorModel(), ErrorModel.whatprot()], ids=["no-errors", "whatprot"])
def test_present_identified_absent_not_and_fdr_calibrated(ecoli, half_index, errors):
    """Whole proteins, half of them absent from the reference (shuffled, so no paralog is left in it either):
    FDR held, absent reads < 2 % identified."""
    rng = np.random.default_rng(0)
    sample = [(r.id, r.sequence if i % 2 == 0 else "".join(rng.permutation(list(r.sequence))))
              for i, r in enumerate(ecoli[:800])]
    sim = simulate_reads(sample, known="KCYM", efficiency=0.9, errors=errors, seed=3)
    ids = identify_reads(sim.reads, half_index, known="KCYM", efficiency=0.9)
    present = np.array([i % 2 == 0 for i in range(len(sample))])
    ident = ids.identified()
    origins = {r.id: (o[0], t.replace("-", "")) for r, o, t in zip(sim.reads, sim.origins, sim.truths)}
    ev = evaluate_identifications(ids, origins, half_index)
    assert ident[~present].mean() < 0.02
    # error-free reads under the default (Whatprot-like) error model: 0.935 with the score summed over alignments,
    # 0.968 with the best single alignment, which scored reads with many failures far too low (issue 19)
    assert ident[present].mean() > (0.92 if errors.is_error_free else 0.8)
    # ~400 identifications: the observed proportion has a binomial sd of about 0.011 at 0.05
    assert ev["fdp_at_0.01"] <= 0.02 and ev["fdp_at_0.05"] <= 0.08
    assert ids.to_dataframe().columns.tolist() == ["read_id", "protein_id", "start", "score", "q_value", "decoy", "explained",
                                                  "margin"]
    assert ids.info["least_q_value"] <= 0.01


def test_no_read_at_the_fdr_is_explained_in_the_log(caplog):
    """Too few reads for q <= 0.01 (it takes 100 targets ahead of the first decoy): the log says so, with the count."""
    import io
    import logging

    idx = build_index(io.StringIO(">p1\nMAKLCEEYAGKWLMQAACDEKKLPYTRAMC\n>p2\nKAACAYAAAMKKAACAAYAAAMAAACAAKY\n"))
    with caplog.at_level(logging.WARNING, logger="protlm.sequencing.identify"):
        ids = identify_reads([("r1", "MXKXCXXYXXKXXMXXXXXXKKXXYXXXMC")], idx, known="KCYM")
    assert ids.q_value[0] == 1.0 and not ids.identified().any() and ids.info["least_q_value"] == 1.0
    assert "no read reaches q <= 0.01 (least q-value 1): 1 reads outscore the best decoy" in caplog.text
    assert "needs at least 100" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="protlm.sequencing.identify"):
        identify_reads([("r1", "MXKXCXXYXXKXXMXXXXXXKKXXYXXXMC")], idx, known="KCYM", fdr=1.0)
    assert "no read reaches" not in caplog.text


def test_shifted_reads_score_close_to_error_free(ecoli, half_index):
    sample = ecoli[:200:2]
    clean = identify_reads(simulate_reads(sample, known="KCYM", efficiency=0.9, seed=1).reads, half_index,
                           known="KCYM", efficiency=0.9)
    shifted = identify_reads(simulate_reads(sample, known="KCYM", efficiency=0.9, errors=ErrorModel.whatprot(),
                                            seed=1).reads, half_index, known="KCYM", efficiency=0.9)
    ok = clean.identified(0.05) & shifted.identified(0.05)  # 100 reads: 1 % FDR needs 100 targets before a decoy
    assert ok.mean() > 0.8
    # the same protein at the same start, and at least half the error-free score
    assert (np.array(clean.protein_ids)[ok] == np.array(shifted.protein_ids)[ok]).mean() > 0.9  # identical copies (insertion elements) tie
    assert (shifted.start[ok] == 0).mean() > 0.9
    assert np.median(shifted.score[ok] / clean.score[ok]) > 0.5


def test_short_read_finds_its_protein_among_better_voted_repeats(monkeypatch):
    """Six proteins with a run of four Ys get more seed votes (from the shifted and skipped readings) than
    the read's own protein; a short read aligns enough candidates to find it, three would not."""
    import io

    from protlm.sequencing import identify

    rng = np.random.default_rng(0)

    def background(n):
        return "".join(rng.choice(list("ADEFGILNPQSTVW"), n))

    own = background(40) + "R" + "WSIVGAYYYDTNANK" + background(40)
    repeats = [background(10) + "RGAYYYYDTNANKNK" + background(13) for _ in range(6)]
    text = ">own\n" + own + "\n" + "".join(f">rep{i}\n{s}\n" for i, s in enumerate(repeats))
    idx = build_index(io.StringIO(text))
    read = [("r", "XXXXXXYYYXXXXXK")]
    ids = identify_reads(read, idx, known="KCYM", efficiency=0.9)
    assert ids.protein_ids[0] == "own" and int(ids.start[0]) == 41
    monkeypatch.setattr(identify, "ALIGN_RESIDUES", 0)  # the three most voted only
    assert identify_reads(read, idx, known="KCYM", efficiency=0.9).protein_ids[0].startswith("rep")


@pytest.mark.parametrize("errors", [ErrorModel(), None], ids=["no-errors", "default"])
def test_read_with_one_seed_hit_aligned_at_its_diagonal(errors):
    """A three-letter read has one seed hit; the aligned band must hold its diagonal even when few failed
    cycles are expected (the band once reached 32 diagonals up and, capped at the drift, missed it)."""
    import io

    rng = np.random.default_rng(1)
    peptide = "EAEGSHIMLGAQNVDLNLSGAFTGETSAAMLK"
    own = "".join(rng.choice(list("ADEFGILNPQSTVW"), 50)) + "R" + peptide + "".join(rng.choice(list("ADEFGILNPQSTVW"), 50))
    idx = build_index(io.StringIO(f">own\n{own}\n"))
    read = "".join(c if c in "KCYM" else "X" for c in peptide)
    ids = identify_reads([("r", read)], idx, known="KCYM", efficiency=0.9, errors=errors, digest="trypsin")
    assert ids.protein_ids[0] == "own" and int(ids.start[0]) == 51 and ids.score[0] > 5


def test_with_a_digest_seed_hits_vote_only_where_a_peptide_can_start(monkeypatch):
    """Sixty proteins hold the read's letters where no tryptic peptide starts (after an A); with the digest
    their hits do not vote, so the read's own protein is among the few candidates aligned."""
    import io

    from protlm.sequencing import identify

    rng = np.random.default_rng(2)

    def background(n):
        return "".join(rng.choice(list("ADEFGILNPQSTVW"), n))

    peptide = "GAYDDCTNANK"
    repeats = [background(12) + "A" + peptide + background(12) for _ in range(60)]
    own = background(30) + "R" + peptide + background(30)
    text = "".join(f">rep{i}\n{s}\n" for i, s in enumerate(repeats)) + ">own\n" + own + "\n"
    idx = build_index(io.StringIO(text))
    read = [("r", "".join(c if c in "KCYM" else "X" for c in peptide))]
    monkeypatch.setattr(identify, "ALIGN_RESIDUES", 0)  # three candidates, and twelve when tied
    ids = identify_reads(read, idx, known="KCYM", efficiency=0.9, digest="trypsin")
    assert ids.protein_ids[0] == "own" and int(ids.start[0]) == 31


def test_with_a_digest_a_read_two_peptides_explain_scores_below_one_that_one_explains():
    """Two reads of the same length and letters: the first's pattern is one protein's, the second's two
    proteins' (with other residues).  Their log-likelihood ratios are alike; the posterior odds are not."""
    import io

    rng = np.random.default_rng(3)

    def background(n):
        return "".join(rng.choice(list("ADEFGILNPQSTVW"), n))

    def peptide(pattern):  # letters where the pattern has them, random other residues elsewhere
        return "".join(c if c != "X" else str(rng.choice(list("ADEFGILNPQSTVW"))) for c in pattern)

    one, two = "XXKXXCXXXYX", "XXXKXXCXYXX"
    seqs = {"u": background(30) + "R" + peptide(one) + background(30)}
    seqs.update({name: background(30) + "R" + peptide(two) + background(30) for name in ("a", "b")})
    idx = build_index(io.StringIO("".join(f">{n}\n{s}\n" for n, s in seqs.items())))
    reads = [("r1", one), ("r2", two)]
    plain = identify_reads(reads, idx, known="KCYM", efficiency=0.9, errors=ErrorModel())
    assert abs(plain.score[0] - plain.score[1]) < 0.5  # the likelihood ratios alone do not tell them apart
    ids = identify_reads(reads, idx, known="KCYM", efficiency=0.9, errors=ErrorModel(), digest="trypsin")
    assert ids.protein_ids[0] == "u" and ids.protein_ids[1] in ("a", "b")
    assert ids.score[1] < ids.score[0] - 1.0
    assert not ids.is_unambiguous()[1]  # and the margin criterion still sees the tie
    assert ids.info["score"] == "log_posterior_odds" and plain.info["score"] == "log_likelihood_ratio"
