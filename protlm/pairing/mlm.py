"""Masked-language modelling of pair rows: the masks, the loss and the pairing gap.

What :func:`~protlm.pairing.training.train_pair_model` trains with and what
``benchmarks/pairing.py`` diagnoses with: rows ``<cls> + left + right``
(:func:`pair_tokens`), pairing-mode and BERT masks (:func:`mask_rows`), the
masked loss (:func:`masked_loss`), MSAs of whole species (:func:`draw_msa`)
and the inter-chain signal of a model (:func:`pairing_gap`).
"""

from __future__ import annotations

import numpy as np

from protlm.errors import PairingInputError
from protlm.pairing.sampling import sample_species

__all__ = ["pair_tokens", "mask_rows", "masked_loss", "shuffle_within_species", "draw_msa", "pairing_gap"]


def pair_tokens(paired, alphabet) -> tuple[np.ndarray, list]:
    """Token rows ``<cls> + left + right`` of the known pairs of two families, with their species.

    Parameters
    ----------
    paired : protlm.io.PairedFamilies
        Families whose ``truth`` (``{left_row: right_row}``) lists the known pairs.
    alphabet : esm.data.Alphabet
        The MSA Transformer alphabet.

    Returns
    -------
    tokens : numpy.ndarray
        ``int64``, shape ``(n_pairs, 1 + left columns + right columns)``, in left-row order.
    species : list of str
        Species of each pair.

    Raises
    ------
    PairingInputError
        If no true pairs are known.
    AlphabetError
        On letters outside the alphabet (naming row and column).

    Examples
    --------
    >>> import esm
    >>> from protlm.io import MSA, PairedFamilies
    >>> msa = MSA.from_sequences(["ACD-", "AEDE"], ids=["a|s1", "b|s1"])
    >>> paired = PairedFamilies.from_concatenated(msa, split_at=2, species_key="field:|:2")
    >>> tokens, species = pair_tokens(paired, esm.data.Alphabet.from_architecture("msa_transformer"))
    >>> tokens.tolist(), species
    ([[0, 5, 23, 13, 30], [0, 5, 9, 13, 9]], ['s1', 's1'])
    """
    if not paired.truth:
        raise PairingInputError("no known pairs to train on: give the true pairing (e.g. --truth same-order)")
    in_block = {int(r): b.species for b in paired.blocks for r in b.left}
    pairs = sorted((l, r) for l, r in paired.truth.items() if l in in_block)
    if not pairs:
        raise PairingInputError("none of the known pairs lies in a species shared by both families")
    left = paired.left.tokenize(alphabet)
    right = paired.right.tokenize(alphabet)
    rows_l = np.array([l for l, _ in pairs], dtype=np.int64)
    rows_r = np.array([r for _, r in pairs], dtype=np.int64)
    cls = np.full((len(pairs), 1), alphabet.cls_idx, dtype=np.int64)
    tokens = np.concatenate([cls, left[rows_l], right[rows_r]], axis=1).astype(np.int64)
    return tokens, [in_block[l] for l, _ in pairs]


def mask_rows(
    tokens: np.ndarray,
    *,
    split_at: int,
    mode: str,
    rng: np.random.Generator,
    alphabet,
    chain_mask_prob: float = 0.7,
    mlm_prob: float = 0.15,
) -> tuple[np.ndarray, np.ndarray]:
    """Mask an MSA of pair rows for one training or validation step.

    Parameters
    ----------
    tokens : numpy.ndarray
        ``(rows, 1 + left + right)`` tokens; column 0 is ``<cls>``.
    split_at : int
        Length of the left chain.
    mode : {"left", "right", "mlm"}
        ``"left"``/``"right"``: that chain masked with ``chain_mask_prob`` in
        every row (``<mask>`` only); ``"mlm"``: BERT masking of all residues.
    rng : numpy.random.Generator
    alphabet : esm.data.Alphabet

    Returns
    -------
    masked, target : numpy.ndarray
        The input tokens and a boolean array of the positions to predict.

    Examples
    --------
    >>> import esm
    >>> alphabet = esm.data.Alphabet.from_architecture("msa_transformer")
    >>> tokens = np.full((4, 11), 5); tokens[:, 0] = 0
    >>> masked, target = mask_rows(tokens, split_at=4, mode="left", rng=np.random.default_rng(0),
    ...                            alphabet=alphabet, chain_mask_prob=1.0)
    >>> bool(target[:, 1:5].all()), bool(target[:, 5:].any()), int(masked[0, 1])
    (True, False, 32)
    """
    rows, width = tokens.shape
    target = np.zeros(tokens.shape, dtype=bool)
    masked = tokens.copy()
    if mode in ("left", "right"):
        cols = slice(1, 1 + split_at) if mode == "left" else slice(1 + split_at, width)
        block = target[:, cols]
        block[...] = rng.random(block.shape) < chain_mask_prob
        masked[target] = alphabet.mask_idx
    elif mode == "mlm":
        target[:, 1:] = rng.random((rows, width - 1)) < mlm_prob
        roll = rng.random(tokens.shape)
        masked[target & (roll < 0.8)] = alphabet.mask_idx
        swap = target & (roll >= 0.8) & (roll < 0.9)
        residues = np.array([alphabet.get_idx(c) for c in "ACDEFGHIKLMNPQRSTVWY-"])
        masked[swap] = rng.choice(residues, size=int(swap.sum()))
    else:
        raise PairingInputError(f"unknown masking mode {mode!r}; choose one of left, right, mlm")
    # at least one target, so the loss is defined
    if not target.any():
        target[0, 1] = True
        masked[0, 1] = alphabet.mask_idx
    return masked, target


def shuffle_within_species(rows: np.ndarray, species: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Left-chain row order for a wrong pairing: a derangement inside each species block of 2+.

    Parameters
    ----------
    rows : numpy.ndarray
        The rows (only their number is used).
    species : numpy.ndarray
        Species of each row.
    rng : numpy.random.Generator

    Returns
    -------
    numpy.ndarray
        ``order``: row ``i`` of the wrong pairing takes the left chain of row ``order[i]``.

    Examples
    --------
    >>> shuffle_within_species(np.arange(4), np.array(["a", "a", "b", "c"]), np.random.default_rng(0)).tolist()
    [1, 0, 2, 3]
    """
    order = np.arange(len(rows))
    for s in np.unique(species):
        idx = np.flatnonzero(species == s)
        if len(idx) < 2:
            continue
        shift = rng.integers(1, len(idx))  # cyclic shift: no row keeps its partner
        order[idx] = idx[(np.arange(len(idx)) + shift) % len(idx)]
    return order


def masked_loss(model, tokens, target, truth):
    """Cross-entropy of ``model`` at the ``target`` positions of one masked MSA.

    Parameters
    ----------
    model : esm.MSATransformer
    tokens : torch.Tensor
        ``(rows, columns)`` masked input tokens.
    target : torch.Tensor
        ``(rows, columns)`` bool, the positions to predict.
    truth : torch.Tensor
        ``(rows, columns)`` the unmasked tokens.

    Returns
    -------
    torch.Tensor
        The mean loss (a scalar with gradients).
    """
    import torch.nn.functional as F

    logits = model(tokens[None])["logits"][0]
    return F.cross_entropy(logits[target], truth[target])


def pairing_gap(model, msas, *, split_at: int, alphabet, seed: int = 0, chain_mask_prob: float = 0.7, device=None) -> dict:
    """Inter-chain signal of a model: left-masked loss at the true pairing versus shuffled pairings.

    For each MSA (a ``(tokens, species)`` tuple), the left chain of every row
    is masked with ``chain_mask_prob`` (the same masks for both pairings) and
    the loss is computed with the true partners and after a derangement of the
    left chains inside each species.  A model that uses the right chain to
    predict the left one has a clearly positive gap.

    Parameters
    ----------
    model : esm.MSATransformer
        Evaluated in eval mode (its mode is restored afterwards), without gradients.
    msas : sequence of (numpy.ndarray, sequence)
        ``(tokens, species)`` of each MSA (:func:`draw_msa`).
    split_at : int
        Length of the left chain.
    alphabet : esm.data.Alphabet
    seed : int
        Masks and derangements are drawn from ``numpy.random.default_rng([seed, k])`` for MSA ``k``.
    chain_mask_prob : float
        Masking probability of the left chain (DiffPALM's 0.7).
    device : torch.device, optional
        Default: the model's.

    Returns
    -------
    dict
        ``loss_true``, ``loss_shuffled``, ``gap`` (means over the MSAs).
    """
    import torch

    was_training = model.training
    model.eval()
    device = device or next(model.parameters()).device
    true_losses, shuffled_losses = [], []
    try:
        with torch.no_grad():
            for k, (tokens, species) in enumerate(msas):
                rng = np.random.default_rng([seed, k])
                order = shuffle_within_species(tokens, np.asarray(species), rng)
                masked, target = mask_rows(
                    tokens, split_at=split_at, mode="left", rng=rng, alphabet=alphabet, chain_mask_prob=chain_mask_prob
                )
                shuffled = tokens.copy()
                shuffled[:, : 1 + split_at] = tokens[order, : 1 + split_at]
                masked_shuffled = masked.copy()
                masked_shuffled[:, : 1 + split_at] = masked[order, : 1 + split_at]
                target_shuffled = target.copy()
                target_shuffled[:, : 1 + split_at] = target[order, : 1 + split_at]
                for toks, inp, tgt, sink in (
                    (tokens, masked, target, true_losses),
                    (shuffled, masked_shuffled, target_shuffled, shuffled_losses),
                ):
                    loss = masked_loss(
                        model,
                        torch.as_tensor(inp, device=device),
                        torch.as_tensor(tgt, device=device),
                        torch.as_tensor(toks, device=device),
                    )
                    sink.append(float(loss))
    finally:
        model.train(was_training)
    lt, ls = float(np.mean(true_losses)), float(np.mean(shuffled_losses))
    return {"loss_true": lt, "loss_shuffled": ls, "gap": ls - lt}


def draw_msa(tokens, groups, names, depth, rng):
    """An MSA of whole species drawn from ``names`` until ``depth`` rows are filled.

    Parameters
    ----------
    tokens : numpy.ndarray
        ``(n_pairs, columns)`` pair rows.
    groups : dict
        Species -> indices of its rows (:func:`~protlm.pairing.sampling.group_by_species`).
    names : sequence of str
        The species to draw from.
    depth : int
        Rows at most; a species deeper than that contributes a random subset.
    rng : numpy.random.Generator

    Returns
    -------
    tokens, species : numpy.ndarray
        The MSA's rows and the species of each.
    """
    sizes = {s: len(groups[s]) for s in names}
    chosen = sample_species(sizes, depth=depth, rng=rng)
    rows, species = [], []
    for s in chosen:
        idx = groups[s]
        if len(idx) > depth:
            idx = np.sort(rng.choice(idx, size=depth, replace=False))
        rows.extend(idx.tolist())
        species.extend([s] * len(idx))
    return tokens[np.asarray(rows)], np.asarray(species, dtype=object)
