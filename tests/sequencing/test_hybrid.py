"""Hybrid prediction: reference hits as evidence next to the model; protlm index / sequence --reference."""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from protlm.cli import main
from protlm.models.alphabet import AMINO_ACIDS
from protlm.sequencing.backends import FrequencyBackend
from protlm.sequencing.hybrid import attribute_sources, guide_reads, reference_prior
from protlm.sequencing.index import build_index, default_cache_paths
from protlm.sequencing.predictor import predict_reads
from protlm.sequencing.reads import PartialRead
from protlm.sequencing.reference import Hit, ReferenceHits, search_reads

from test_reference import FREQ, KNOWN, fasta_text, mask, random_proteins


@pytest.fixture(scope="module")
def tiny_sequencer_path(tmp_path_factory):
    """A tiny random protlm sequencer (the prediction here comes from the reference)."""
    import torch

    from protlm.models.sequencer import save_sequencer
    from protlm.models.sequencer_model import SequencerModel

    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("weights") / "tiny.pt"
    save_sequencer(SequencerModel(d_model=16, n_layers=1, n_heads=2, d_ff=32, max_len=32, dropout=0.0), path)
    return path


@pytest.fixture(scope="module")
def proteins():
    return random_proteins(200, 200, seed=5)


@pytest.fixture(scope="module")
def index(proteins):
    return build_index(io.StringIO(fasta_text(proteins)))


def _predict(reads, prior=None, efficiency=1.0):
    return predict_reads(reads, known=KNOWN, backend=FrequencyBackend(FREQ), efficiency=efficiency, prior=prior)


def test_strong_hit_reconstructs_the_read_from_the_reference(index, proteins):
    reads = [PartialRead("a", mask(proteins[11])), PartialRead("b", mask(proteins[150][40:100]))]
    hits = search_reads(reads, index, known=KNOWN)
    prior = reference_prior(reads, hits, index)
    pred = _predict(reads, prior.factors)
    assert pred.sequences == (proteins[11], proteins[150][40:100])
    labels, share = attribute_sources(pred.probabilities, prior, reads, offsets=pred.offsets)
    unknown = pred.unknown_mask()
    assert set(labels[~unknown]) == {"observed"}
    assert (labels[unknown] == "reference").all() and share[unknown].min() > 0.9
    # the model alone (most frequent allowed residue) is far worse
    alone = _predict(reads)
    assert sum(a == b for a, b in zip(alone.sequences[0], proteins[11])) < 0.5 * len(proteins[11])


def test_no_hit_falls_back_to_the_model(index):
    reads = [PartialRead("none", "XXXXKXXXXX"), PartialRead("other", mask(random_proteins(1, 80, seed=123)[0]))]
    hits = search_reads(reads, index, known=KNOWN, max_evalue=1e-3)
    prior = reference_prior(reads, hits, index)
    assert prior.factors == (None, None)
    guided, alone = _predict(reads, prior.factors), _predict(reads)
    assert guided.sequences == alone.sequences
    assert np.allclose(guided.probabilities, alone.probabilities)
    labels, _ = attribute_sources(guided.probabilities, prior, reads, offsets=guided.offsets)
    assert set(labels[guided.unknown_mask()]) == {"model"}


def test_weak_hit_mixes_with_the_model(index, proteins):
    """A hit of posterior 0.5 and identity 0.6: factor 1 + 0.3 (1/q - 1) at its residue, 0.7 elsewhere."""
    read = PartialRead("w", "X" * 30)
    hit = Hit(read_id="w", rank=1, ref_index=7, ref_id="p7", ref_start=10, ref_end=40, score=20.0, evalue=1.0,
              posterior=0.5, identity=0.6, n_known=0, n_match=0, n_conflict=0, coverage=1.0)
    hits = ReferenceHits(hits=(hit,), read_ids=("w",), n_skipped=0, n_windows=index.n_residues, known=KNOWN,
                         efficiency=1.0, seconds=0.0)
    prior = reference_prior([read], hits, index)
    f = prior.factors[0]
    ref_codes = [AMINO_ACIDS.index(a) for a in proteins[7][10:40]]
    q = index.frequencies[ref_codes]
    assert np.allclose(f[np.arange(30), ref_codes], 1 + 0.3 * (1 / q - 1))
    other = np.ones_like(f, dtype=bool)
    other[np.arange(30), ref_codes] = False
    assert np.allclose(f[other], 0.7)
    pred = _predict([read], prior.factors)
    labels, share = attribute_sources(pred.probabilities, prior, [read], offsets=pred.offsets)
    assert "hybrid" in set(labels) and 0.1 < np.nanmedian(share) < 0.9


def test_missed_detections_and_reference_known_letters(index, proteins):
    """At e < 1 an X over a reference K can still be K; the reference's K wins there."""
    read = PartialRead("m", mask(proteins[20], efficiency=0.7, seed=2))
    hits = search_reads([read], index, known=KNOWN, efficiency=0.7)
    prior = reference_prior([read], hits, index)
    pred = _predict([read], prior.factors, efficiency=0.7)
    assert pred.sequences[0] == proteins[20]


def test_index_and_sequence_cli(tmp_path, proteins, tiny_sequencer_path):
    ref = tmp_path / "ref.fasta"
    ref.write_text(fasta_text(proteins[:50]))
    reads = tmp_path / "reads.fasta"
    truth = tmp_path / "truth.fasta"
    reads.write_text(">r1\n" + mask(proteins[3]) + "\n>r2\nXXXXXXXX\n")
    truth.write_text(">r1\n" + proteins[3] + "\n>r2\nAAAAAAAA\n")
    runner = CliRunner()
    res = runner.invoke(main, ["index", str(ref), "-o", str(tmp_path / "ref.idx")])
    assert res.exit_code == 0, res.output
    out = tmp_path / "out"
    res = runner.invoke(main, ["sequence", str(reads), "-o", str(out), "--known", KNOWN, "--model", str(tiny_sequencer_path),
                               "--reference", str(ref), "--index", str(tmp_path / "ref.idx"), "--truth", str(truth)])
    assert res.exit_code == 0, res.output
    hits = pd.read_csv(out / "hits.tsv", sep="\t")
    assert hits.loc[0, "read_id"] == "r1" and hits.loc[0, "ref_id"] == "p3"
    pos = pd.read_csv(out / "positions.tsv", sep="\t")
    assert {"source", "reference_share"} <= set(pos.columns)
    r1 = pos[pos.read_id == "r1"]
    assert set(r1.source) == {"observed", "reference"}
    assert set(pos[pos.read_id == "r2"].source) == {"model"}
    report = json.loads((out / "report.json").read_text())
    assert report["reference"]["reads_with_hits"] == 1
    assert report["reference"]["positions_by_source"]["model"] == 8
    # an index of another reference is refused, in one line
    ref.write_text(fasta_text(proteins[:49]))
    res = runner.invoke(main, ["sequence", str(reads), "-o", str(tmp_path / "out2"), "--known", KNOWN,
                               "--model", str(tiny_sequencer_path), "--reference", str(ref), "--index", str(tmp_path / "ref.idx")])
    assert res.exit_code == 2 and "does not match" in res.output and "Traceback" not in res.output


def test_index_cli_default_place_and_overwrite(tmp_path, proteins, monkeypatch):
    monkeypatch.setenv("PROTLM_CACHE_DIR", str(tmp_path / "cache"))
    ref = tmp_path / "r.fasta"
    ref.write_text(fasta_text(proteins[:10]))
    runner = CliRunner()
    res = runner.invoke(main, ["index", str(ref), "--known", "KCYM"])
    assert res.exit_code == 0, res.output
    (cached,) = default_cache_paths(ref)
    assert cached.is_file() and cached.with_name(cached.name + ".seeds-CKMY.npz").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache", "r.fasta"]  # nothing beside the reference
    named = tmp_path / "r.idx"
    assert runner.invoke(main, ["index", str(ref), "-o", str(named)]).exit_code == 0
    res = runner.invoke(main, ["index", str(ref), "-o", str(named)])
    assert res.exit_code == 2 and "--overwrite" in res.output
    res = runner.invoke(main, ["index", str(ref), "--known", "KCB"])
    assert res.exit_code == 2 and "'B' is not a standard residue" in res.output


def test_guide_reads_builds_and_caches(tmp_path, proteins, monkeypatch):
    monkeypatch.setenv("PROTLM_CACHE_DIR", str(tmp_path / "cache"))
    ref = tmp_path / "r.fasta"
    ref.write_text(fasta_text(proteins[:30]))
    guide = guide_reads([("q", mask(proteins[29]))], ref, known=KNOWN)
    assert guide.hits.by_read("q")[0].ref_id == "p29"
    assert default_cache_paths(ref)[0].is_file()
