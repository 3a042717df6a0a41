"""Reference index and search: exact and tolerant matches, scores, E-values, the index cache."""

from __future__ import annotations

import gzip
import io

import numpy as np
import pytest

from protlm.models.alphabet import AMINO_ACIDS
from protlm.sequencing.index import (
    IndexMismatchError,
    build_index,
    default_cache_paths,
    load_index,
    open_reference,
)
from protlm.sequencing.reads import ReadFormatError
from protlm.sequencing.reference import ObservationModel, search_reads

KNOWN = "KCYM"
# residue composition close to UniProt's, so KCYM take ~12 % of positions
FREQ = np.array([8.3, 1.4, 5.5, 6.8, 3.9, 7.1, 2.3, 5.9, 5.8, 9.7, 2.4, 4.1, 4.7, 3.9, 5.5, 6.6, 5.3, 6.9, 1.1, 2.9])
FREQ = FREQ / FREQ.sum()


def random_proteins(n, length, seed):
    rng = np.random.default_rng(seed)
    letters = np.array(list(AMINO_ACIDS))
    return ["".join(letters[rng.choice(20, size=length, p=FREQ)]) for _ in range(n)]


def mask(seq, known=KNOWN, efficiency=1.0, seed=0):
    rng = np.random.default_rng(seed)
    return "".join(a if a in known and rng.random() < efficiency else "X" for a in seq)


def fasta_text(seqs, prefix="p"):
    return "".join(f">{prefix}{i} protein {i}\n{s}\n" for i, s in enumerate(seqs))


@pytest.fixture(scope="module")
def proteins():
    return random_proteins(300, 250, seed=1)


@pytest.fixture(scope="module")
def index(proteins):
    return build_index(io.StringIO(fasta_text(proteins)))


def test_exact_full_protein_is_top_hit_with_tiny_evalue(index, proteins):
    hits = search_reads([("r", mask(proteins[17]))], index, known=KNOWN)
    top = hits.by_read("r")[0]
    assert (top.ref_id, top.ref_start, top.rank) == ("p17", 0, 1)
    assert top.n_match == top.n_known > 10 and top.n_conflict == 0
    assert top.evalue < 1e-20 and top.posterior > 0.999
    assert top.identity > 0.95


def test_peptide_found_at_its_offset(index, proteins):
    pep = proteins[5][100:160]
    top = search_reads({"pep": mask(pep)}, index, known=KNOWN).by_read("pep")[0]
    assert (top.ref_id, top.ref_start, top.ref_end) == ("p5", 100, 160)
    assert top.coverage == 1.0


def test_missed_detections_tolerated(index, proteins):
    read = mask(proteins[42], efficiency=0.6, seed=3)
    assert read.count("X") > mask(proteins[42]).count("X")  # some known letters were missed
    hits = search_reads([("r", read)], index, known=KNOWN, efficiency=0.6)
    top = hits.by_read("r")[0]
    assert top.ref_id == "p42" and top.ref_start == 0
    assert top.n_match == top.n_known  # every letter shown is right
    assert top.n_conflict > 0  # ... and the reference has letters the read missed


def test_substitutions_tolerated_and_identity_lower(index, proteins):
    rng = np.random.default_rng(7)
    seq = np.array(list(proteins[99]))
    sub = rng.random(len(seq)) < 0.3
    seq[sub] = rng.choice(list(AMINO_ACIDS), size=int(sub.sum()), p=FREQ)
    top = search_reads([("h", mask("".join(seq)))], index, known=KNOWN).by_read("h")[0]
    exact = search_reads([("e", mask(proteins[99]))], index, known=KNOWN).by_read("e")[0]
    assert top.ref_id == "p99" and top.evalue < 1e-5
    assert top.n_match < top.n_known
    assert top.identity < exact.identity and top.score < exact.score


def test_evalues_bound_chance_hits_of_unrelated_reads(index):
    """P(best E-value of an unrelated read < t) <= t (E = N exp(-score) is a union bound)."""
    reads = [(f"n{i}", mask(s)) for i, s in enumerate(random_proteins(300, 40, seed=99))]
    hits = search_reads(reads, index, known=KNOWN, max_evalue=1e9)
    best = np.array([hs[0].evalue if hs else np.inf for hs in (hits.by_read(r) for r, _ in reads)])
    for t in (0.05, 0.2, 1.0):
        assert (best < t).mean() <= t + 0.02
    top_posterior = [hs[0].posterior for hs in (hits.by_read(r) for r, _ in reads) if hs]
    assert sum(top_posterior) / len(reads) < 0.1


def test_reads_without_information_are_skipped(index):
    hits = search_reads([("empty", "XXXXXXXX"), ("one", "XXKXXXX")], index, known=KNOWN)
    assert hits.n_skipped == 2 and hits.hits == ()


def test_bad_read_letter_names_read_and_position(index):
    with pytest.raises(ReadFormatError, match=r"read 'bad', position 3: 'A'"):
        search_reads([("ok", "XKX"), ("bad", "XKA")], index, known=KNOWN)


def test_score_table_is_a_likelihood_ratio():
    """Under the background the expected likelihood ratio of every reference residue is 1."""
    m = ObservationModel("CKMY", 0.8, FREQ)
    for eps in (0.01, 0.3):
        ratio = np.exp(m.score_table(eps)[:, :20])
        assert np.allclose(m.background @ ratio, 1.0)


def test_hits_table(index, proteins, tmp_path):
    hits = search_reads([("r", mask(proteins[3])), ("s", "XXXX")], index, known=KNOWN, max_hits=2)
    hits.write(tmp_path / "hits.tsv")
    import pandas as pd

    df = pd.read_csv(tmp_path / "hits.tsv", sep="\t")
    assert list(df.columns[:6]) == ["read_id", "rank", "ref_id", "ref_start", "score", "evalue"][:4] + ["ref_end", "score"]
    assert df.loc[0, "ref_id"] == "p3" and df.loc[0, "ref_start"] == 1  # 1-based
    assert (df["rank"] <= 2).all() and set(df["read_id"]) == {"r"}


# -- the index -----------------------------------------------------------------------------------

def test_index_round_trip(index, tmp_path):
    path = index.save(tmp_path / "ref.idx.npz")
    back = load_index(path)
    assert back.ids == index.ids and back.descriptions == index.descriptions
    assert np.array_equal(back.residues, index.residues) and np.array_equal(back.starts, index.starts)
    assert back.sequence(4) == index.sequence(4)


def test_gzipped_reference_same_index(proteins, tmp_path):
    plain = tmp_path / "r.fasta"
    plain.write_text(fasta_text(proteins[:20]))
    gz = tmp_path / "r.fa.gz"
    gz.write_bytes(gzip.compress(plain.read_bytes()))
    a, b = build_index(plain), build_index(gz)
    assert a.ids == b.ids and np.array_equal(a.residues, b.residues)


def test_cache_written_reused_and_invalidated(proteins, tmp_path, monkeypatch):
    monkeypatch.setenv("PROTLM_CACHE_DIR", str(tmp_path / "cache"))
    ref = tmp_path / "ref.fasta"
    ref.write_text(fasta_text(proteins[:10]))
    first = open_reference(ref)
    cache = default_cache_paths(ref)[0]
    assert cache.is_file() and first.n_sequences == 10
    stamp = cache.stat().st_mtime_ns
    again = open_reference(ref)
    assert again.n_sequences == 10 and cache.stat().st_mtime_ns == stamp  # reused, not rebuilt
    # the reference changes: the cache no longer matches and is rebuilt
    ref.write_text(fasta_text(proteins[:12]))
    with pytest.raises(IndexMismatchError, match="does not match"):
        load_index(cache, reference=ref)
    rebuilt = open_reference(ref)
    assert rebuilt.n_sequences == 12 and load_index(cache, reference=ref).n_sequences == 12


def test_cache_lives_in_the_cache_folder_and_a_read_only_reference_works(proteins, tmp_path, monkeypatch):
    """protlm writes nothing beside the reference: a reference in a read-only folder indexes and caches."""
    import os
    import stat

    monkeypatch.setenv("PROTLM_CACHE_DIR", str(tmp_path / "cache"))
    data_dir = tmp_path / "readonly"
    data_dir.mkdir()
    ref = data_dir / "ref.fasta"
    ref.write_text(fasta_text(proteins[:5]))
    data_dir.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        (cached,) = default_cache_paths(ref)
        assert cached.parent == tmp_path / "cache" / "index"
        assert open_reference(ref).n_sequences == 5
        assert cached.is_file() and os.listdir(data_dir) == ["ref.fasta"]
        assert open_reference(ref).n_sequences == 5
    finally:
        data_dir.chmod(stat.S_IRWXU)


def test_cache_folder_order(monkeypatch, tmp_path):
    from protlm.sequencing.index import cache_dir

    monkeypatch.delenv("PROTLM_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == tmp_path / "xdg" / "protlm"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert cache_dir() == __import__("pathlib").Path.home() / ".cache" / "protlm"
    monkeypatch.setenv("PROTLM_CACHE_DIR", str(tmp_path / "mine"))
    assert cache_dir() == tmp_path / "mine"


def test_index_file_accepted_as_reference_and_junk_rejected(index, tmp_path):
    path = index.save(tmp_path / "x.npz")
    assert open_reference(path).n_sequences == index.n_sequences
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"not an index")
    with pytest.raises(IndexMismatchError, match="not a protlm reference index"):
        load_index(junk)


def test_real_proteome_reads_find_their_protein(data):
    """Reads from real E. coli proteins against the whole E. coli proteome (e = 0.9)."""
    from protlm.io import read_fasta

    ref = data("proteomes/ecoli_k12_UP000000625.fasta")
    index = build_index(ref)
    recs = read_fasta(ref)[::200]
    reads = [(r.id, mask(r.sequence, efficiency=0.9, seed=i)) for i, r in enumerate(recs)]
    hits = search_reads(reads, index, known=KNOWN, efficiency=0.9)
    by_seq = {r.id: r.sequence for r in recs}
    found = 0
    for rid, _ in reads:
        hs = hits.by_read(rid)
        found += bool(hs) and index.sequence(hs[0].ref_index) == by_seq[rid]
    assert found >= len(reads) - 1


def test_homolog_with_indels_is_realigned_with_gaps(index, proteins):
    """A 3-residue deletion and a 2-residue insertion: the gapped alignment recovers the offsets."""
    p = proteins[60]
    q = p[:80] + p[83:160] + "GG" + p[160:]
    top = search_reads([("q", mask(q))], index, known=KNOWN).by_read("q")[0]
    assert top.ref_id == "p60" and top.n_gaps >= 5 and top.identity > 0.9
    truth = np.r_[np.arange(80), np.arange(83, 160), [-1, -1], np.arange(160, 250)]
    offsets = top.reference_offsets(len(q))
    assert (offsets == truth).mean() > 0.85
    ungapped = search_reads([("q", mask(q))], index, known=KNOWN, gapped=False).by_read("q")[0]
    assert ungapped.aligned is None and (ungapped.reference_offsets(len(q)) == truth).mean() < 0.5


def test_seed_table_cached_beside_the_index_and_invalidated(proteins, tmp_path, monkeypatch):
    from protlm.sequencing.seeds import seed_table

    monkeypatch.setenv("PROTLM_CACHE_DIR", str(tmp_path / "cache"))
    ref = tmp_path / "ref.fasta"
    ref.write_text(fasta_text(proteins[:30]))
    built = seed_table(open_reference(ref), "KCYM")
    beside = default_cache_paths(ref)[0].with_name(default_cache_paths(ref)[0].name + ".seeds-CKMY.npz")
    assert beside.is_file() and built.seconds > 0
    again = seed_table(open_reference(ref), "KCYM")
    assert again.seconds == 0.0 and np.array_equal(again.keys, built.keys)
    ref.write_text(fasta_text(proteins[:31]))  # new reference: index and seed table rebuilt
    rebuilt = seed_table(open_reference(ref), "KCYM")
    assert rebuilt.seconds > 0 and len(rebuilt.keys) > len(built.keys)
    hits = search_reads([("r", mask(proteins[30]))], open_reference(ref), known="KCYM")
    assert hits.by_read("r")[0].ref_id == "p30"
