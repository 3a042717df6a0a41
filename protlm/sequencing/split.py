"""Train / validation / test splits for the sequencing predictor.

Two kinds of held-out proteins, decided in one pass so that one model can be
scored on both:

* **homology-held-out** (``"test"``, and ``"valid"`` for early stopping): whole
  clusters of related sequences, so no test protein has a close relative in
  training.  Clusters are the connected components of the graph linking two
  sequences that share many exact k-mers (:func:`cluster_by_kmers`).
* **random** (``"test_random"``): single sequences drawn at random from the
  clusters that stay in training, so their relatives (strain variants, close
  homologs) are trained on: the situation of a random split of UniRef.

Numpy and scipy only.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass

import numpy as np

from protlm.models.alphabet import encode_residues

__all__ = ["cluster_by_kmers", "SplitAssignment", "split_sequences", "reproduce_split", "SPLITS"]

log = logging.getLogger(__name__)

SPLITS = ("train", "valid", "test", "test_random")


def _kmer_codes(sequence: str, k: int) -> np.ndarray:
    idx = encode_residues(sequence)
    n = len(idx) - k + 1
    if n <= 0:
        return np.empty(0, dtype=np.int64)
    windows = np.lib.stride_tricks.sliding_window_view(idx, k)
    ok = (windows >= 0).all(axis=1)
    codes = (windows * (20 ** np.arange(k - 1, -1, -1))).sum(axis=1)
    return np.unique(codes[ok])


def cluster_by_kmers(sequences, *, k=5, min_shared=10, min_shared_fraction=0.03, max_occurrence=50):
    """Cluster sequences that share many exact k-mers (single linkage).

    Two sequences are linked when they share at least
    ``max(min_shared, min_shared_fraction * n)`` distinct k-mers, ``n`` being the
    number of distinct k-mers of the shorter one; clusters are the connected
    components.  With ``k=5`` and a fraction of 0.03, sequences above roughly
    50 % identity (ungapped, 0.5**5 = 3 % of 5-mers conserved) over the shorter
    one's length are linked; chains of such links join more distant relatives
    too, which errs on the safe side for a held-out test set.  (Looser
    thresholds chain most of UniProt into one cluster through shared motifs.)  K-mers found in more than ``max_occurrence``
    sequences (low-complexity repeats) are ignored.

    Parameters
    ----------
    sequences : sequence of str
    k, min_shared, min_shared_fraction, max_occurrence : see above

    Returns
    -------
    numpy.ndarray of int
        Cluster label of each sequence (0 .. n_clusters - 1).

    Examples
    --------
    >>> a = "MKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQAPILSRVGDGTQDNLSGAEKAVQVKVKALPDAQFEVVHSLAKWKRQTLGQHDFSAGEGLYTHMKALRPDEDRLSPLHSVYVDQWDWERVMGDGERQFSTLKSTVEAIWAGIKATEAAVSEEFGLAPFLPDQIHFVHSQELLSRYPDLDAKGRERAIAKDLGAVFLVGIGGKLSDGHRHDVRAPDYDDWUAENLM"
    >>> b = a[:100] + "W" + a[101:]
    >>> c = "GSHMLEDPVDAFQLEVVSGFRRYTDLEKLRQEAGRNHFHLMIVTKSKMAEAEPAEPAKAPEMTPE"
    >>> cluster_by_kmers([a, b, c]).tolist()
    [0, 0, 1]
    """
    from scipy import sparse
    from scipy.sparse.csgraph import connected_components

    n = len(sequences)
    codes = [_kmer_codes(s, k) for s in sequences]
    counts = np.array([len(c) for c in codes], dtype=np.int64)
    rows = np.repeat(np.arange(n), counts)
    cols = np.concatenate(codes) if n else np.empty(0, dtype=np.int64)
    uniq, inverse, occ = np.unique(cols, return_inverse=True, return_counts=True)
    keep = (occ[inverse] >= 2) & (occ[inverse] <= max_occurrence)
    log.debug("k-mer clustering: %d sequences, %d distinct %d-mers, %d shared entries", n, len(uniq), k, int(keep.sum()))
    a = sparse.csr_matrix(
        (np.ones(int(keep.sum()), dtype=np.int32), (rows[keep], inverse[keep])), shape=(n, len(uniq))
    )
    shared = sparse.triu(a @ a.T, k=1).tocoo()
    shorter = np.minimum(counts[shared.row], counts[shared.col])
    need = np.maximum(min_shared, np.ceil(min_shared_fraction * shorter))
    link = shared.data >= need
    graph = sparse.coo_matrix((np.ones(int(link.sum())), (shared.row[link], shared.col[link])), shape=(n, n))
    n_clusters, labels = connected_components(graph, directed=False)
    log.info("k-mer clustering: %d sequences in %d clusters (%d links)", n, n_clusters, int(link.sum()))
    return labels


def _unit_hash(text: str, seed: int) -> float:
    digest = hashlib.blake2b(f"{seed}:{text}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") / 2**64


@dataclass(frozen=True)
class SplitAssignment:
    """Which split each sequence belongs to.

    Attributes
    ----------
    ids : tuple of str
    splits : tuple of str
        One of :data:`SPLITS` per sequence.
    clusters : numpy.ndarray
        Cluster label per sequence.
    info : dict
        Options and counts.
    """

    ids: tuple
    splits: tuple
    clusters: np.ndarray
    info: dict

    def __repr__(self) -> str:
        counts = {s: self.splits.count(s) for s in SPLITS}
        return f"SplitAssignment({counts}, n_clusters={len(set(self.clusters.tolist()))})"

    def indices(self, split: str) -> np.ndarray:
        """Positions of the sequences in ``split``."""
        if split not in SPLITS:
            raise ValueError(f"unknown split {split!r}; choose from {', '.join(SPLITS)}")
        return np.array([i for i, s in enumerate(self.splits) if s == split], dtype=np.int64)

    def digest(self, split: str) -> str:
        """A short hash of the sorted ids in ``split`` (recorded in checkpoints)."""
        ids = sorted(self.ids[i] for i in self.indices(split))
        return hashlib.sha256("\n".join(ids).encode()).hexdigest()[:16]

    def to_dataframe(self):
        """One row per sequence: id, split and cluster (the columns of ``split.tsv``)."""
        import pandas as pd

        return pd.DataFrame({"id": list(self.ids), "split": list(self.splits), "cluster": self.clusters})

    def write(self, path) -> None:
        """Write ``id  split  cluster`` as TSV, atomically."""
        from protlm.io.atomic import atomic_write

        with atomic_write(path) as fh:
            self.to_dataframe().to_csv(fh, sep="\t", index=False)


def split_sequences(ids, sequences, *, valid_fraction=0.05, test_fraction=0.1, random_test_fraction=0.05,
                    seed=0, method="kmer", cluster_options=None) -> SplitAssignment:
    """Assign sequences to train / valid / test (homology-held-out) / test_random.

    Clusters are assigned whole to ``valid`` or ``test`` by a seeded hash of
    their smallest member id, so the assignment does not depend on input order;
    ``test_random`` then takes single sequences from the remaining clusters.
    The largest cluster always stays in training.

    Parameters
    ----------
    ids, sequences : sequence of str
    valid_fraction, test_fraction, random_test_fraction : float
        Approximate fractions of sequences.
    seed : int
    method : {"kmer", "random"}
        ``"random"`` ignores homology: ``valid`` and ``test`` are drawn like
        ``test_random`` (for comparison only).
    cluster_options : dict, optional
        Passed to :func:`cluster_by_kmers`.

    Examples
    --------
    >>> s = split_sequences(["a", "b", "c"], ["MKV", "MKV", "LLL"], test_fraction=0.5, valid_fraction=0, random_test_fraction=0)
    >>> set(s.splits) <= set(SPLITS)
    True
    """
    if method not in ("kmer", "random"):
        raise ValueError(f"unknown split method {method!r}; choose from kmer, random")
    ids = tuple(ids)
    if len(set(ids)) != len(ids):
        raise ValueError("sequence ids must be unique to split them")
    n = len(ids)
    if method == "kmer":
        clusters = cluster_by_kmers(sequences, **(cluster_options or {}))
    else:
        clusters = np.arange(n)
    first = {}  # cluster -> smallest member id (independent of input order)
    for i, c in enumerate(clusters.tolist()):
        if c not in first or ids[i] < first[c]:
            first[c] = ids[i]
    sizes = np.bincount(clusters) if n else np.zeros(0, dtype=np.int64)
    largest = int(np.argmax(sizes)) if n else -1
    cluster_split = {}
    for c, rep in first.items():
        u = _unit_hash(rep, seed)
        if c == largest and method == "kmer":
            cluster_split[c] = "train"
        elif u < test_fraction:
            cluster_split[c] = "test"
        elif u < test_fraction + valid_fraction:
            cluster_split[c] = "valid"
        else:
            cluster_split[c] = "train"
    splits = []
    for i, c in enumerate(clusters.tolist()):
        s = cluster_split[c]
        if s == "train" and _unit_hash("r:" + ids[i], seed) < random_test_fraction / max(1e-9, 1 - test_fraction - valid_fraction):
            s = "test_random"
        splits.append(s)
    info = dict(method=method, seed=seed, valid_fraction=valid_fraction, test_fraction=test_fraction,
                random_test_fraction=random_test_fraction, cluster_options=cluster_options or {},
                n_clusters=int(len(first)), largest_cluster=int(sizes.max()) if n else 0)
    return SplitAssignment(ids=ids, splits=tuple(splits), clusters=clusters, info=info)


def reproduce_split(ids, sequences, split_metadata: dict) -> SplitAssignment:
    """Recompute the split a model was trained with, from its weights' ``metadata["split"]``.

    The ids of each split are checked against the digests recorded at
    training time, so a test set can be trusted to be the one held out.

    Parameters
    ----------
    ids, sequences : sequence of str
        The same sequences the model's training split was made from.
    split_metadata : dict
        The recorded split: ``method``, ``seed``, ``valid_fraction``,
        ``test_fraction``, ``random_test_fraction``, optionally
        ``cluster_options`` and ``digests`` (split name to digest; the splits
        without a digest are not checked).

    Returns
    -------
    SplitAssignment
        The recomputed split.

    Raises
    ------
    ValueError
        If the recomputed split differs from the recorded one (other input
        files, other options).
    """
    split = split_sequences(
        ids, sequences, valid_fraction=split_metadata["valid_fraction"], test_fraction=split_metadata["test_fraction"],
        random_test_fraction=split_metadata["random_test_fraction"], seed=split_metadata["seed"],
        method=split_metadata["method"], cluster_options=split_metadata.get("cluster_options") or None,
    )
    recorded = split_metadata.get("digests", {})
    for name, digest in recorded.items():
        if split.digest(name) != digest:
            raise ValueError(f"split {name!r} differs from the one recorded at training time "
                             f"({split.digest(name)} != {digest}): same input files and options needed")
    return split
