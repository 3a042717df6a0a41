import numpy as np
import pytest

from protlm.models.alphabet import AMINO_ACIDS
from protlm.sequencing.simulate import fragment_sequence, mask_sequence, simulate_reads


def _random_protein(n, seed):
    rng = np.random.default_rng(seed)
    return "".join(rng.choice(list(AMINO_ACIDS), size=n))


def test_known_residues_kept_and_others_hidden(ecoli_records):
    sim = simulate_reads(ecoli_records, known="KCYM")
    assert len(sim) == len([r for r in ecoli_records if len(r.sequence) >= 6])
    for read, truth in zip(sim.reads, sim.truths):
        assert len(read.read) == len(truth)
        for a, t in zip(read.read, truth):
            if t in "KCYM":
                assert a == t
            else:
                assert a == "X"


def test_efficiency_honoured():
    seq = _random_protein(200_000, 1)
    sim = simulate_reads([("p", seq)], known="KCYM", efficiency=0.7, seed=3)
    read = np.array(list(sim.reads[0].read))
    truth = np.array(list(seq))
    known_type = np.isin(truth, list("KCYM"))
    detected = read[known_type] != "X"
    # binomial sd at n ~ 40,000 is ~0.0023
    assert abs(detected.mean() - 0.7) < 0.01
    # a detected residue is always the true one; others are never shown
    assert (read[known_type][detected] == truth[known_type][detected]).all()
    assert (read[~known_type] == "X").all()


def test_seeded():
    seq = _random_protein(2000, 2)
    a = simulate_reads([("p", seq)], known="KCYM", efficiency=0.5, seed=11)
    b = simulate_reads([("p", seq)], known="KCYM", efficiency=0.5, seed=11)
    c = simulate_reads([("p", seq)], known="KCYM", efficiency=0.5, seed=12)
    assert a.reads == b.reads
    assert a.reads != c.reads


def test_nonstandard_letters_become_x():
    assert mask_sequence("KUXBC", "KC") == "KXXXC"


def test_fragments_tryptic_and_fixed():
    seq = "MAKPLLKAARGGRPAAK"
    assert [seq[a:b] for a, b in fragment_sequence(seq, "tryptic")] == ["MAKPLLK", "AAR", "GGRPAAK"]
    sim = simulate_reads([("p", seq)], known="K", fragment=5, min_length=3)
    assert [r.id for r in sim.reads] == ["p/1-5", "p/6-10", "p/11-15", "p/16-17"][:3]
    assert sim.info["n_too_short"] == 1
    assert "".join(sim.truths) == seq[:15]


def test_bad_options():
    with pytest.raises(ValueError, match="efficiency"):
        simulate_reads([("p", "MK")], known="K", efficiency=0.0)
    with pytest.raises(ValueError, match="fragment"):
        fragment_sequence("MK", "chymotrypsin")


def test_write(tmp_path, ecoli_records):
    from protlm.io import read_fasta

    sim = simulate_reads(ecoli_records[:3], known="KCYM", max_reads=2)
    sim.write(tmp_path / "r.fasta", tmp_path / "t.fasta")
    reads = read_fasta(tmp_path / "r.fasta")
    truth = read_fasta(tmp_path / "t.fasta")
    assert [r.id for r in reads] == [t.id for t in truth] == [r.id for r in ecoli_records[:2]]
    assert [t.sequence for t in truth] == [r.sequence for r in ecoli_records[:2]]


def test_write_records_the_simulation_next_to_the_reads(tmp_path, ecoli_records, monkeypatch):
    import json

    import protlm
    from protlm.sequencing.simulate import sidecar_path

    sim = simulate_reads(ecoli_records[:4], known="ymkc", efficiency=0.8, fragment="tryptic", min_length=7,
                         max_reads=5, seed=7)
    (tmp_path / "out").mkdir()
    sim.write(tmp_path / "out" / "reads.fasta", tmp_path / "truth.fasta")
    assert sidecar_path(tmp_path / "out" / "reads.fasta") == tmp_path / "out" / "reads.json"
    record = json.loads((tmp_path / "out" / "reads.json").read_text())
    assert record == {
        "protlm_version": protlm.__version__, "known": sim.info["known"], "efficiency": 0.8, "fragment": "tryptic",
        "min_length": 7, "max_reads": 5, "seed": 7, "n_proteins": sim.info["n_proteins"], "n_reads": 5,
        "n_too_short": sim.info["n_too_short"], "reads": "reads.fasta", "truth": "../truth.fasta",
        "errors": {"edman_failure": 0.0, "false_detection": 0.0, "cycles": None},
    }
    assert set(record["known"]) == set("CKMY")
    # written atomically: a failing write leaves the earlier sidecar whole and no temporary file behind
    import protlm.report

    def boom(fh_obj, fh, **kw):
        fh.write("{partial")
        raise OSError("disk full")

    monkeypatch.setattr(protlm.report.json, "dump", boom)
    with pytest.raises(OSError, match="disk full"):
        sim.write(tmp_path / "out" / "reads.fasta", tmp_path / "truth.fasta")
    assert json.loads((tmp_path / "out" / "reads.json").read_text()) == record
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["reads.fasta", "reads.json"]


def test_error_model_shifts_false_detections_and_cycles():
    from protlm.sequencing.error_model import ErrorModel

    seq = _random_protein(100_000, 4)
    errors = ErrorModel(edman_failure=0.06, false_detection=0.02)
    sim = simulate_reads([("p", seq)], known="KCYM", errors=errors, seed=5)
    read, truth = sim.reads[0].read, sim.truths[0]
    assert len(read) == len(truth) and truth.replace("-", "") == seq
    skipped = np.array(list(truth)) == "-"
    # failed cycles per removal: geometric, mean p / (1 - p)
    assert abs(skipped.sum() / len(seq) - 0.06 / 0.94) < 0.004
    r, t = np.array(list(read)), np.array(list(truth))
    known_type = np.isin(t, list("KCYM"))
    # false detections: letters over residues outside the known set (or over skipped cycles)
    blank = ~known_type
    assert abs((r[blank] != "X").mean() - 0.02) < 0.003
    assert (r[known_type] == t[known_type]).mean() > 0.99
    short = simulate_reads([("p", seq)], known="KCYM", errors=ErrorModel.whatprot(cycles=30), seed=5)
    assert len(short.reads[0]) == 30 == len(short.truths[0])


def test_truth_headers_name_protein_and_start(tmp_path):
    sim = simulate_reads([("p1", "MKVLCYAKRAAKCC")], known="KCYM", fragment="tryptic", min_length=1)
    sim.write(tmp_path / "r.fasta", tmp_path / "t.fasta")
    headers = [line for line in (tmp_path / "t.fasta").read_text().splitlines() if line.startswith(">")]
    assert headers[1] == ">p1/3-8 protein=p1 start=3"
