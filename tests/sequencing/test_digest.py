"""Digests: the cleavage rules, and identification that places peptide reads only where a digest's peptides start."""

import io
import json

import numpy as np
import pytest
from click.testing import CliRunner

from protlm.cli import main
from protlm.errors import ChunkError
from protlm.models.alphabet import AMINO_ACIDS
from protlm.sequencing.digest import cut_positions, parse_digest, start_mask
from protlm.sequencing.error_model import ErrorModel
from protlm.sequencing.identify import identify_reads
from protlm.sequencing.index import build_index
from protlm.sequencing.simulate import fragment_sequence, simulate_reads


@pytest.mark.parametrize("digest, sequence, cuts", [
    ("trypsin", "AKARAKPARPAK", [2, 4]),  # after K or R, never before P; not at the very end
    ("lys-c", "AKARAKPAK", [2, 6]),
    ("glu-c", "AEAEPAE", [2, 4]),
])
def test_cut_positions(digest, sequence, cuts):
    assert cut_positions(sequence, digest) == cuts


def test_parse_digest():
    assert parse_digest("TRYPSIN") == "trypsin" and parse_digest(None) is None and parse_digest("none") is None
    with pytest.raises(ValueError, match="unknown digest 'pepsin': use none or one of trypsin"):
        parse_digest("pepsin")


def test_simulated_tryptic_peptides_start_where_the_mask_allows():
    rng = np.random.default_rng(0)
    seqs = ["".join(rng.choice(list(AMINO_ACIDS), 120)) for _ in range(20)]
    idx = build_index(io.StringIO("".join(f">p{i}\n{s}\n" for i, s in enumerate(seqs))))
    mask = start_mask(idx.residues, idx.starts, idx.lengths, "trypsin")
    for i, s in enumerate(seqs):
        allowed = set((np.flatnonzero(mask[idx.starts[i]: idx.starts[i] + idx.lengths[i]])).tolist())
        assert {a for a, _ in fragment_sequence(s, "tryptic")} <= allowed
        # and nothing else but the initiator-methionine start
        assert allowed - {a for a, _ in fragment_sequence(s, "tryptic")} <= ({1} if s[0] == "M" else set())
    # the decoys get starts by the same rule, from their own residues
    dec = idx.decoys()
    dmask = start_mask(dec.residues, dec.starts, dec.lengths, "trypsin")
    for i in range(len(seqs)):
        d = dec.sequence(i)
        want = {0, *cut_positions(d, "trypsin")} | ({1} if d[0] == "M" else set())
        assert set(np.flatnonzero(dmask[dec.starts[i]: dec.starts[i] + dec.lengths[i]]).tolist()) == want


@pytest.fixture(scope="module")
def proteome():
    """300 random proteins (E. coli-like composition is not needed: the digest's effect is combinatorial)."""
    rng = np.random.default_rng(7)
    freqs = np.full(20, 1.0)
    freqs[[AMINO_ACIDS.index(a) for a in "KR"]] = 2.5  # tryptic peptides of about ten residues
    freqs /= freqs.sum()
    seqs = [(f"p{i}", "M" + "".join(rng.choice(list(AMINO_ACIDS), int(rng.integers(150, 400)), p=freqs)))
            for i in range(300)]
    return seqs, build_index(io.StringIO("".join(f">{i}\n{s}\n" for i, s in seqs)))


def test_digest_places_reads_only_at_cleavage_starts_and_identifies_more(proteome):
    seqs, idx = proteome
    sim = simulate_reads(seqs, known="KCYMRHWST", efficiency=0.9, fragment="tryptic", min_length=6, seed=1)
    plain = identify_reads(sim.reads, idx, known="KCYMRHWST", efficiency=0.9)
    dig = identify_reads(sim.reads, idx, known="KCYMRHWST", efficiency=0.9, digest="trypsin")
    assert dig.info["digest"] == "trypsin" and plain.info["digest"] is None
    masks = [start_mask(db.residues, db.starts, db.lengths, "trypsin") for db in (idx, idx.decoys())]
    has = dig.protein >= 0
    assert has.sum() > 500
    for i in np.flatnonzero(has):
        db = idx.decoys() if dig.decoy[i] else idx
        assert masks[int(dig.decoy[i])][db.starts[dig.protein[i]] + dig.start[i]], i
    # without the digest some winners sit where no tryptic peptide starts; with it, more reads are identified
    off = [i for i in np.flatnonzero(plain.protein >= 0) if not plain.decoy[i]
           and not masks[0][idx.starts[plain.protein[i]] + plain.start[i]]]
    assert len(off) > 0
    truth = {r.id: o[0] for r, o in zip(sim.reads, sim.origins)}
    right = [sum(ids.protein_ids[i] == truth[ids.read_ids[i]] for i in np.flatnonzero(ids.identified()))
             for ids in (plain, dig)]
    assert right[1] > right[0] * 1.02, right
    wrong = dig.identified().sum() - right[1]
    assert wrong <= 0.02 * dig.identified().sum() + 2


def test_digest_is_recorded_and_checked_in_chunk_scores(proteome):
    seqs, idx = proteome
    sim = simulate_reads(seqs[:20], known="KCYM", efficiency=0.9, fragment="tryptic", min_length=6, seed=2)
    ids = identify_reads(sim.reads, idx, known="KCYM", efficiency=0.9, digest="trypsin", fdr=0.0)
    assert ids.scores.info["digest"] == "trypsin"
    with pytest.raises(ChunkError, match="digest = 'trypsin', this run has None"):
        identify_reads(sim.reads, idx, known="KCYM", efficiency=0.9, scores=ids.scores)
    again = identify_reads(sim.reads, idx, known="KCYM", efficiency=0.9, digest="trypsin", scores=ids.scores)
    np.testing.assert_array_equal(again.q_value, identify_reads(sim.reads, idx, known="KCYM", efficiency=0.9,
                                                                digest="trypsin").q_value)


def test_cli_digest(proteome, tmp_path, tiny_model_path):
    seqs, _ = proteome
    ref = tmp_path / "ref.fasta"
    ref.write_text("".join(f">{i}\n{s}\n" for i, s in seqs[:60]))
    reads = tmp_path / "reads.fasta"
    res = CliRunner().invoke(main, ["simulate", str(ref), "-o", str(reads), "--truth-out", str(tmp_path / "t.fasta"),
                                    "--known", "KCYM", "--efficiency", "0.9", "--fragment", "tryptic",
                                    "--max-reads", "150", "--seed", "3"])
    assert res.exit_code == 0, res.output
    base = ["sequence", str(reads), "--known", "KCYM", "--efficiency", "0.9", "--model", str(tiny_model_path)]
    res = CliRunner().invoke(main, base + ["-o", str(tmp_path / "no_ref"), "--digest", "trypsin"])
    assert res.exit_code == 2 and "--digest needs --reference" in res.output
    assert not (tmp_path / "no_ref").exists()
    res = CliRunner().invoke(main, base + ["-o", str(tmp_path / "bad"), "--digest", "pepsin", "--reference", str(ref)])
    assert res.exit_code == 2 and "pepsin" in res.output and not (tmp_path / "bad").exists()
    res = CliRunner().invoke(main, base + ["-o", str(tmp_path / "out"), "--digest", "Trypsin", "--reference", str(ref)])
    assert res.exit_code == 0, res.output
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["options"]["digest"] == "trypsin" and report["options"]["peptides"] is True
    assert report["reference"]["identification"]["digest"] == "trypsin"
    # scatter with the digest, gather without it: refused in one line
    res = CliRunner().invoke(main, base + ["-o", str(tmp_path / "c1"), "--digest", "trypsin", "--reference", str(ref),
                                           "--chunk", "1/1"])
    assert res.exit_code == 0, res.output
    res = CliRunner().invoke(main, base + ["-o", str(tmp_path / "g"), "--reference", str(ref),
                                           "--gather", str(tmp_path / "c1")])
    assert res.exit_code == 2 and "digest" in res.output and "Traceback" not in res.output
