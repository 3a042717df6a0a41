"""DiffPaSS: differentiable pairing by mutual-information-type scores (Lupo et al., Bioinformatics 2024).

A thin adapter around the ``diffpass`` package (Apache-2.0), an optional extra
of protlm (``pip install 'protlm[diffpass]'``): it builds DiffPaSS's inputs
from a :class:`protlm.io.PairedFamilies`, runs its ``InformationPairing``
bootstrap and returns a :class:`~protlm.pairing.result.PairingResult`.  No
DiffPaSS code is copied here; its API is called.

What protlm adds around it: species blocks of unequal size are padded with
all-gap rows (a sequence matched to padding is reported unpaired), known pairs
become DiffPaSS *fixed pairings*, the seed is applied to DiffPaSS's global
random generators without leaking out, and each pair gets a confidence (the
fraction of bootstrap iterations whose hard pairing contains it).
"""

from __future__ import annotations

import logging
import time

import numpy as np

from protlm.errors import DiffPaSSMissingError, PairingInputError, ProtlmError
from protlm.pairing._blocks import build_result, ortholog_pairs, routes
from protlm.pairing.mi_ipa import prepare_paired
from protlm.pairing.result import PairingResult

__all__ = ["pair_diffpass", "DiffPaSSMissingError", "DIFFPASS_OPTIONS"]

log = logging.getLogger(__name__)

#: Options accepted by :func:`pair_diffpass` and where they go in DiffPaSS.
DIFFPASS_OPTIONS = {
    "information_measure": "InformationPairing(information_measure=...): 'TwoBodyEntropy' (default) or 'MI'",
    "permutation_cfg": "InformationPairing(permutation_cfg=...): tau, n_iter, noise, noise_factor, noise_std",
    "n_start": "fit_bootstrap(n_start=...): pairs fixed at the first bootstrap iteration (default 1)",
    "n_end": "fit_bootstrap(n_end=...): pairs fixed at the last one (default: all but one)",
    "step_size": "fit_bootstrap(step_size=...): pairs added per bootstrap iteration (default 1)",
    "n_repeats": "fit_bootstrap(n_repeats=...): runs per bootstrap iteration, lowest loss kept (default 1)",
    "single_fit_cfg": "fit_bootstrap(single_fit_cfg=...): gradient-descent settings of each iteration",
}

_N_STATES = 21  # gap + 20 amino acids, the same alphabet on both sides


def _import_diffpass():
    try:
        from diffpass.train import InformationPairing
        import torch
    except ImportError as exc:
        raise DiffPaSSMissingError(
            "--method diffpass needs the optional DiffPaSS package, which is not installed "
            f"({exc}): install it with  pip install 'protlm[diffpass]'  (or  pip install diffpass)"
        ) from None
    return torch, InformationPairing


def _resolve_device(torch, device: str):
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except RuntimeError as exc:
        raise ProtlmError(f"invalid device {device!r}: {exc}; choose 'auto', 'cpu' or 'cuda[:N]'") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ProtlmError(f"device {device!r} requested but CUDA is not available; use --device cpu or auto")
    return dev


def pair_diffpass(paired, *, known_pairs=None, context=None, seed: int = 0, device: str = "auto", callback=None,
                  **options) -> PairingResult:
    """Pair two families inside each species with DiffPaSS's information bootstrap.

    Runs ``diffpass.train.InformationPairing(group_sizes, ...).fit_bootstrap(x, y, ...)``
    with DiffPaSS's defaults (two-body entropy loss, bootstrap from 1 fixed pair
    up to all, one pair more per iteration), then keeps the hard pairing of
    lowest loss over the whole bootstrap, as DiffPaSS's own examples do.

    Parameters
    ----------
    paired : protlm.io.PairedFamilies
        The two aligned families and their species blocks.  The left family is
        permuted, the right one stays fixed.
    known_pairs : mapping or iterable of (left, right), optional
        Pairs known to interact (rows or ids); passed as DiffPaSS fixed pairings,
        as are the orthologs (species with one sequence on each side, paired
        directly; ``info["routes"]``).
    context : None
        DiffPaSS takes no statistics from outside its groups: context pairs are
        refused (:class:`~protlm.errors.PairingInputError`); use mi-ipa or
        entropy-bootstrap with context.
    seed : int
        Seeds NumPy's and torch's global generators for the run (their previous
        states are restored afterwards).
    device : str
        ``"auto"`` (CUDA when available, else CPU), ``"cpu"`` or ``"cuda[:N]"``.
    callback : callable, optional
        Called as ``callback(done, total)`` before (0) and after the bootstrap
        (DiffPaSS offers no per-iteration hook).
    **options
        DiffPaSS settings, see :data:`DIFFPASS_OPTIONS`.

    Returns
    -------
    PairingResult
        ``method="diffpass"``, ``device`` where it ran; ``confidence`` =
        fraction of bootstrap iterations whose final hard pairing contains the
        pair, in [0, 1] (1 = DiffPaSS's "robust" pairs; what DiffPaSS's results
        expose, informative in a single run); ``agreement`` is NaN (one run);
        ``history["hard_loss"]`` = lowest hard loss of each bootstrap iteration.

    Raises
    ------
    DiffPaSSMissingError
        The ``diffpass`` package is not installed (``pip install 'protlm[diffpass]'``).
    ProtlmError
        An unknown option or an unusable device.

    Examples
    --------
    >>> from types import SimpleNamespace as NS
    >>> rng = np.random.default_rng(0)
    >>> left = rng.integers(1, 21, size=(6, 5)); right = left.copy()
    >>> fam = NS(left=NS(array=left, ids=tuple("abcdef")), right=NS(array=right, ids=tuple("ABCDEF")),
    ...          blocks=(NS(species="s1", left=np.arange(3), right=np.arange(3)),
    ...                  NS(species="s2", left=np.arange(3, 6), right=np.arange(3, 6))))
    >>> r = pair_diffpass(fam, seed=0, device="cpu")  # doctest: +SKIP
    >>> r.n_pairs  # doctest: +SKIP
    6
    """
    unknown = set(options) - set(DIFFPASS_OPTIONS)
    if unknown:
        raise ProtlmError(f"unknown DiffPaSS option(s) {sorted(unknown)}; valid: {sorted(DIFFPASS_OPTIONS)}")
    if context is not None and context.n_pairs:
        raise PairingInputError("--method diffpass takes no --context (DiffPaSS has no fixed statistics outside its "
                                "species groups); use --method mi-ipa or entropy-bootstrap with context")
    blocks, left, right, given = prepare_paired(paired, known_pairs)
    orthologs = ortholog_pairs(blocks, given)
    known = {**given, **orthologs}
    torch, InformationPairing = _import_diffpass()
    dev = _resolve_device(torch, device)

    # Square species groups: pad the shorter side with all-gap rows (index -1).
    sizes, x_rows, y_rows, fixed = [], [], [], []
    for b in blocks:
        m = max(len(b.left), len(b.right))
        lrows = np.concatenate([b.left, -np.ones(m - len(b.left), dtype=np.int64)])
        rrows = np.concatenate([b.right, -np.ones(m - len(b.right), dtype=np.int64)])
        pos_r = {int(r): j for j, r in enumerate(rrows) if r >= 0}
        fixed.append([(i, pos_r[known[int(lr)]]) for i, lr in enumerate(lrows) if int(lr) in known])
        sizes.append(m)
        x_rows.append(lrows)
        y_rows.append(rrows)
    x_rows, y_rows = np.concatenate(x_rows), np.concatenate(y_rows)

    def one_hot(codes, rows):
        padded = np.zeros((len(rows), codes.shape[1]), dtype=np.int64)
        padded[rows >= 0] = codes[rows[rows >= 0]]
        return torch.nn.functional.one_hot(torch.from_numpy(padded), _N_STATES).to(torch.float32).to(dev)

    x, y = one_hot(left, x_rows), one_hot(right, y_rows)
    model_kw = {"group_sizes": sizes, "fixed_pairings": fixed if known else None}
    for key in ("information_measure", "permutation_cfg"):
        if key in options:
            model_kw[key] = options[key]
    boot_kw = {k: options[k] for k in ("n_start", "n_end", "step_size", "n_repeats", "single_fit_cfg") if k in options}
    log.info("DiffPaSS: %d species, %d rows after padding, device %s, options %s", len(sizes), sum(sizes), dev, options)

    t0 = time.perf_counter()
    if callback is not None:
        callback(0, 1)
    np_state = np.random.get_state()
    try:
        with torch.random.fork_rng(devices=[dev] if dev.type == "cuda" else []):
            np.random.seed(seed)
            torch.manual_seed(seed)
            model = InformationPairing(**model_kw).to(dev)
            res = model.fit_bootstrap(x, y, show_pbar=False, **boot_kw)
    finally:
        np.random.set_state(np_state)
    seconds = time.perf_counter() - t0
    if callback is not None:
        callback(1, 1)

    # Lowest hard loss over all bootstrap iterations and gradient steps.
    losses = [(float(loss), i, j) for i, it in enumerate(res.hard_losses) for j, loss in enumerate(it)]
    best_loss, bi, bj = min(losses)
    best = res.hard_perms[bi][bj]
    finals = [it[-1] for it in res.hard_perms]  # hard pairing at the end of each iteration

    offsets = np.cumsum([0] + sizes)
    matchings, confidences = [], []
    for g, b in enumerate(blocks):
        lrows, rrows = x_rows[offsets[g]:offsets[g + 1]], y_rows[offsets[g]:offsets[g + 1]]
        perm = np.asarray(best[g])  # y row j pairs with x row perm[j]
        agree = np.mean([np.asarray(f[g]) == perm for f in finals], axis=0)
        match, conf = {}, {}
        for j, i in enumerate(perm):
            if lrows[i] >= 0 and rrows[j] >= 0:
                match[int(lrows[i])] = int(rrows[j])
                conf[int(lrows[i])] = float(agree[j])
        matchings.append(match)
        confidences.append(conf)
    log.info("DiffPaSS: best hard loss %.4f at bootstrap iteration %d/%d, %.1f s", best_loss, bi + 1,
             len(res.hard_losses), seconds)
    import diffpass

    info = {
        "seed": seed,
        "device": str(dev),
        "options": {k: options[k] for k in options},
        "diffpass_version": getattr(diffpass, "__version__", "unknown"),
        "best_iteration": bi,
        "best_hard_loss": best_loss,
        "n_iterations": len(res.hard_losses),
        "routes": routes(blocks, given, orthologs),
        "seconds": seconds,
    }
    history = {"hard_loss": [float(min(it)) for it in res.hard_losses]}
    return build_result("diffpass", blocks, matchings, confidences, left_ids=paired.left.ids,
                        right_ids=paired.right.ids, history=history, info=info, device=str(dev))
