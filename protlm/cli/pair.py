"""``protlm pair``: pair interacting paralogs inside each species (DiffPALM, MI-IPA, random).

Heavy imports (torch, fair-esm) happen inside the command, after the inputs,
the output folder and the weights have been checked.
"""

from __future__ import annotations

import logging
import time

import click

from protlm.cli._options import (device_option, model_option, no_download_option, overwrite_option, seed_option,
                                 species_key_option, threads_option)
from protlm.pairing.homology import DEFAULT_HOMOLOGY_WEIGHT

log = logging.getLogger(__name__)


@click.command("pair")
@click.argument("left", type=click.Path(exists=True, dir_okay=False, allow_dash=True))
@click.argument("right", required=False, type=click.Path(exists=True, dir_okay=False, allow_dash=True))
@click.option("-o", "--outdir", required=True, type=click.Path(file_okay=False),
              help="Output folder: pairs.tsv, paired.fasta, paired.a3m, af3_input.json (AlphaFold 3), boltz/ "
                   "(Boltz YAML + CSV MSAs), report.json, pairing.png.")
@click.option("--split-at", type=int, default=None,
              help="LEFT is one concatenated MSA: the left chain is its first N columns (no RIGHT then).")
@click.option("--method", type=click.Choice(["diffpalm", "mi-ipa", "entropy-bootstrap", "entropy-ipa", "diffpass",
                                            "random"]),
              default="diffpalm", show_default=True,
              help="diffpalm (MSA Transformer); weights-free: mi-ipa, entropy-bootstrap (protlm's fast DiffPaSS-objective "
                   "method), entropy-ipa (entropy bootstrap, then re-pairing rounds on coevolution + phylogeny scores "
                   "from the other species), diffpass (needs the protlm[diffpass] extra); random baseline.")
@model_option("pair", "weights", old="--weights",
              help="The MSA Transformer DiffPALM runs: a checkpoint in fair-esm's format (or a folder holding "
                   "esm_msa1b_t12_100M_UR50S.pt), the pretrained esm_msa1b_t12_100M_UR50S, or demo, the shipped "
                   "MalG-MalK family model (a small model, used only when named).")
@no_download_option
@click.option("--runs", type=click.IntRange(min=1), default=None,
              help="Independent runs of diffpalm (default 1) or entropy-ipa (default 7: seeds SEED, SEED+1, ...), "
                   "combined per species by a Hungarian matching of their votes; pairs.tsv's agreement = fraction "
                   "of runs choosing the pair.")
@click.option("--steps", type=click.IntRange(min=0), default=100, show_default=True, help="DiffPALM optimisation steps per run.")
@click.option("--preset", type=click.Choice(["protlm", "authors"]), default="protlm", show_default=True,
              help="protlm: intended lr schedule (factor 0.8, patience 20) and shuffled species blocks; "
                   "authors: what the authors' code runs (torch-default ReduceLROnPlateau, input order).")
@seed_option(0)
@device_option
@click.option("--truth", default=None,
              help="Score the pairing: same-order (row i of LEFT pairs with row i of RIGHT) or a TSV of left_id<TAB>right_id.")
@species_key_option
@click.option("--taxonomy", "taxonomy", multiple=True, type=click.Path(exists=True, dir_okay=False),
              metavar="FILE",
              help="Species of the rows from a taxonomy source (repeatable; gzip/bz2 fine): UniRef FASTA (TaxID=), "
                   "UniProt FASTA (OX=), UniRef or UniProt XML, UniProt idmapping (ACC<TAB>NCBI_TaxID<TAB>9606) "
                   "or a TSV id<TAB>taxid. Matches UniRef100_/UniRef90_ ids, accessions (with or without a "
                   "version), sp|ACC|NAME, UPI...; read once, keeping only the MSAs' ids. Rows it does not name "
                   "fall back to --species-key; rows with neither stay unpaired.")
@click.option("--query-left", default=None, metavar="ID",
              help="Row id of the left chain's query (the AF3/Boltz sequence). Default: the first row.")
@click.option("--query-right", default=None, metavar="ID",
              help="Row id of the right chain's query. Default: the first row.")
@click.option("--af3-layout", type=click.Choice(["unpaired", "paired"]), default="unpaired", show_default=True,
              help="af3_input.json: unpaired = the paired rows lined up in unpairedMsa, pairedMsa empty (what "
                   "AlphaFold 3's docs advise for MSAs paired elsewhere; run AF3 with --resolve_msa_overlaps=false); "
                   "paired = pairs in pairedMsa, the other rows in unpairedMsa.")
@click.option("--context", "context", nargs=2, default=None, type=click.Path(exists=True, dir_okay=False),
              metavar="CTX_LEFT CTX_RIGHT",
              help="Correctly paired MSAs of other species (same columns as LEFT and RIGHT), row i with row i unless "
                   "--context-pairs: MI-IPA's initial training set, the entropy bootstrap's fixed statistics, "
                   "DiffPALM's context rows (the paper's known pairs). Not for diffpass or random.")
@click.option("--context-pairs", type=click.Path(exists=True, dir_okay=False), default=None, metavar="TSV",
              help="Pairs of the --context MSAs: left_id<TAB>right_id per line (optional header left_id, right_id).")
@click.option("--homology-weight", type=click.FloatRange(min=0), default=None,
              help="mi-ipa with --context: weight of the homology-transfer score (candidate pairs resembling "
                   f"context pairs score higher), relative to the spread of the PMI scores; 0 = PMI alone, "
                   f"MI-IPA as published.  [default: {DEFAULT_HOMOLOGY_WEIGHT:g}]")
@click.option("--known-pairs", type=click.Path(exists=True, dir_okay=False), default=None, metavar="TSV",
              help="Pairs fixed inside the input (left_id<TAB>right_id, each within one shared species): kept as "
                   "given, never reassigned; training pairs for MI-IPA, fixed for the others.")
@click.option("--max-rows", type=click.IntRange(min=1), default=None,
              help="Cap the paired-MSA rows (max(left, right) sequences per species): species are kept in order of "
                   "identity to the queries while they fit; the others stay unpaired rows. Default: no cap.")
@click.option("--exclude", default=None, help="Regular expression: rows whose header matches are left out (e.g. _DUMMY).")
@click.option("--max-depth", type=click.IntRange(min=2), default=None,
              help="DiffPALM rows per forward pass, context rows included (species are grouped into sub-MSAs, never "
                   "truncated). Default: set by the model and the device's total memory (never the free memory, so "
                   "every run makes the same plan), at most 1024.")
@click.option("--max-context-rows", type=click.IntRange(min=0), default=None,
              help="DiffPALM: most --context rows per sub-MSA; a larger context is cut to the pairs most alike the "
                   "input (logged; report.json method_info.context_pairs_given). Default: all that fit beside "
                   "the species, else half of --max-depth.")
@click.option("--max-batch", type=click.IntRange(min=1), default=None,
              help="DiffPALM sub-MSAs of the same depth (and the runs of one) optimised together in one batched "
                   "forward pass, at most this many; the same result as one at a time. Default: on a GPU as many as "
                   "the model and the device's total memory hold (the same batches on every run), on the CPU 1 "
                   "(one at a time: batching does not pay there).")
@click.option("--checkpointing", is_flag=True, help="Gradient checkpointing: less memory, more time.")
@click.option("--precision", type=click.Choice(["auto", "fp32", "bf16"]), default="auto", show_default=True,
              help="DiffPALM's model arithmetic: auto = bf16 on CPUs with AMX-BF16 and CUDA GPUs of compute "
                   "capability >= 8 (fp32 elsewhere and with --preset authors); recorded in report.json.")
@threads_option
@overwrite_option("Replace the outputs of an earlier run in OUTDIR.")
def pair(left, right, outdir, split_at, method, weights, no_download, runs, steps, preset, seed, device, truth,
         species_key, taxonomy, query_left, query_right, af3_layout, context, context_pairs, homology_weight,
         known_pairs, max_rows, exclude, max_depth, max_context_rows, max_batch, checkpointing, precision, threads,
         overwrite):
    """Pair the sequences of LEFT with those of RIGHT inside each species.

    LEFT and RIGHT are MSAs (FASTA, A3M, Stockholm, Clustal; gzip/bz2 fine; -
    for stdin) of two interacting families, or LEFT alone is their
    concatenation with --split-at.  Besides the pairs, OUTDIR receives the
    paired MSA for ColabFold (paired.a3m), AlphaFold 3 (af3_input.json) and
    Boltz (boltz/complex.yaml, boltz/A.csv, boltz/B.csv; run boltz from inside
    boltz/).  Species with one sequence on each side (orthologs) are paired
    directly; only species with paralogs go to the method.  A killed DiffPALM
    run resumes from its finished sub-MSAs (kept in OUTDIR/.partial/).
    """
    from pathlib import Path

    from protlm.io import check_paired_layout, prepare_outdir, read_paired_families
    from protlm.pairing.result import OUTPUTS
    from protlm.report import base_report

    started = time.monotonic()
    report = base_report(command="pair", options={}, seed=seed, device=device)
    check_paired_layout(right, split_at)
    from protlm.errors import PairingInputError

    if context_pairs is not None and context is None:
        raise PairingInputError("--context-pairs names the pairs of context MSAs: give them with --context CTX_LEFT CTX_RIGHT")
    if context is not None and method in ("diffpass", "random"):
        raise PairingInputError(f"--context: --method {method} cannot use context pairs; use mi-ipa, entropy-bootstrap, "
                                "entropy-ipa or diffpalm")
    if homology_weight is not None and (method != "mi-ipa" or context is None):
        raise PairingInputError("--homology-weight weighs MI-IPA's use of context pairs: give it with --method mi-ipa "
                                "and --context CTX_LEFT CTX_RIGHT")
    if homology_weight is None:
        homology_weight = DEFAULT_HOMOLOGY_WEIGHT
    if runs is not None and method not in ("diffpalm", "entropy-ipa"):
        raise PairingInputError(f"--runs: --method {method} makes one run; runs are combined for diffpalm and "
                                "entropy-ipa")
    if runs is None:
        from protlm.pairing.entropy_ipa import DEFAULT_RUNS

        runs = DEFAULT_RUNS if method == "entropy-ipa" else 1
    if method == "diffpass":  # fail before reading anything when the optional extra is missing
        from protlm.pairing.diffpass import _import_diffpass

        _import_diffpass()
    out = prepare_outdir(outdir, overwrite=overwrite, expected=OUTPUTS)
    paired = read_paired_families(left, right, split_at=split_at, species_key=species_key, truth=truth,
                                  exclude=exclude, taxonomy=list(taxonomy) or None, context=context,
                                  context_pairs=context_pairs, known_pairs=known_pairs)
    from protlm.pairing.export import query_rows

    query = query_rows(paired, query_left=query_left, query_right=query_right)
    if max_rows is not None:
        paired = paired.cap_rows(max_rows, query=query)
    log.info("%r", paired)
    fixed = {"known_pairs": paired.known_pairs, "context": paired.context}
    options = {
        "method": method, "runs": runs, "steps": steps, "preset": preset, "seed": seed, "device": device,
        "truth": truth, "species_key": species_key, "exclude": exclude, "max_depth": max_depth,
        "checkpointing": checkpointing, "precision": precision, "split_at": split_at, "weights": weights,
        "taxonomy": list(taxonomy), "query_left": query_left, "query_right": query_right, "af3_layout": af3_layout,
        "context": list(context) if context else None, "context_pairs": context_pairs, "known_pairs": known_pairs,
        "max_rows": max_rows, "max_batch": max_batch, "homology_weight": homology_weight,
        "max_context_rows": max_context_rows,
    }
    report["options"] = options
    extra = {}
    if method == "diffpalm":
        result, extra, device = _run_diffpalm(paired, weights=weights, download=not no_download, runs=runs,
                                              steps=steps, seed=seed, preset=preset, device=device,
                                              max_depth=max_depth, max_batch=max_batch,
                                              max_context_rows=max_context_rows,
                                              checkpointing=checkpointing, threads=threads,
                                              precision=precision, checkpoint_dir=Path(out) / ".partial", **fixed)
    else:
        from protlm.cli._progress import progress_callback

        if method == "mi-ipa":
            from protlm.pairing.mi_ipa import pair_mi_ipa

            with progress_callback(desc="mi-ipa", unit="round") as cb:
                result = pair_mi_ipa(paired, seed=seed, callback=cb, homology_weight=homology_weight, **fixed)
        elif method == "entropy-bootstrap":
            from protlm.pairing.entropy_bootstrap import pair_entropy_bootstrap

            with progress_callback(desc="entropy-bootstrap", unit="it") as cb:
                result = pair_entropy_bootstrap(paired, seed=seed, callback=cb, **fixed)
        elif method == "entropy-ipa":
            from protlm.pairing.entropy_ipa import pair_entropy_ipa

            with progress_callback(desc="entropy-ipa", unit="step") as cb:
                result = pair_entropy_ipa(paired, seed=seed, n_runs=runs, callback=cb, **fixed)
        elif method == "diffpass":
            from protlm.pairing.diffpass import pair_diffpass

            with progress_callback(desc="diffpass", unit="it") as cb:
                result = pair_diffpass(paired, seed=seed, device=device, callback=cb, known_pairs=paired.known_pairs)
        else:
            from protlm.pairing.random_pairing import pair_random

            result = pair_random(paired, seed=seed)
    result.write(out, paired=paired, query_left=query[0], query_right=query[1], af3_layout=af3_layout, report=report,
                 extra=extra, inputs=[str(left)] + ([str(right)] if right else []), started=started)
    summary = f"{result.n_pairs} pairs in {result.n_species} species -> {Path(out)}"
    if paired.truth:
        summary += f"  (precision {result.precision(paired.truth):.3f})"
    click.echo(summary)
    if paired.taxonomy is not None:
        click.echo(_coverage_line(paired.taxonomy))
    click.echo(_routes_line(result.info.get("routes"), result.method, paired))


def _routes_line(routes, method, paired) -> str:
    """One line: how many pairs came from each route (orthologs, known pairs, the method), and the context used."""
    if not routes:
        return f"pairs: all from {method}"
    line = (f"pairs: {routes['orthologs']} orthologs paired directly, {routes['known_pairs']} known pairs, "
            f"{routes['optimised']} by {method}")
    if routes.get("context_pairs"):
        line += f"; {routes['context_pairs']} context pairs used"
    if paired.n_capped_species:
        line += f"; --max-rows left out {paired.n_capped_species} species ({paired.n_capped_rows} rows)"
    return line


def _coverage_line(taxonomy) -> str:
    """One line: rows keyed by the taxonomy, by their header, and without a species (kept unpaired)."""
    parts = []
    for side in ("left", "right", "rows"):
        c = taxonomy.get(side)
        if c:
            parts.append(f"{side} {c['n_from_taxonomy']}/{c['n_rows']} from taxonomy, {c['n_from_header']} from headers, "
                         f"{c['n_without_species']} without a species")
    return "species: " + "; ".join(parts) + " (rows without a species are kept as unpaired rows)"


def _run_diffpalm(paired, *, weights, download, runs, steps, seed, preset, device, max_depth, max_batch, checkpointing,
                  threads, precision, checkpoint_dir, known_pairs, context, max_context_rows):
    from protlm.models.esm_msa import MAX_COLUMNS, MAX_ROWS
    from protlm.models.weights import resolve_model
    from protlm.pairing.diffpalm_plan import context_rows_that_fit, plan_sub_msas

    # everything that can fail does so before the model is loaded (the demo model only when named)
    resolved = resolve_model(weights, task="pair", download=None if download else False)
    n_columns = 1 + paired.left.n_columns + paired.right.n_columns
    from protlm.errors import ModelLimitError

    if n_columns > MAX_COLUMNS:
        raise ModelLimitError(
            f"paired MSA has {n_columns} columns including <cls>; the MSA Transformer takes at most {MAX_COLUMNS}"
        )
    if max_depth is not None and max_depth > MAX_ROWS:
        raise ModelLimitError(f"--max-depth {max_depth}: the MSA Transformer takes at most {MAX_ROWS} rows")
    depth = max_depth or MAX_ROWS  # the deepest plan: species too deep for it fail here, before the model loads
    n_context = context_rows_that_fit(paired, max_depth=depth, known_pairs=known_pairs,
                                      n_context=context.n_pairs if context is not None else 0,
                                      max_context_rows=max_context_rows)
    plan_sub_msas(paired, max_depth=depth, known_pairs=known_pairs, n_context=n_context)

    import torch

    from protlm.cli._progress import progress_callback
    from protlm.models.allocator import return_freed_memory
    from protlm.models.device import resolve_device
    from protlm.models.esm_msa import load_msa_transformer
    from protlm.pairing.diffpalm import pair_diffpalm

    if threads:
        torch.set_num_threads(threads)
    return_freed_memory()  # large activation buffers go back to the OS when freed (glibc)
    dev = resolve_device(device)
    model, alphabet = load_msa_transformer(resolved, device=dev)
    with progress_callback(desc="diffpalm", unit="it") as cb:
        result = pair_diffpalm(paired, model=model, alphabet=alphabet, steps=steps, runs=runs, seed=seed,
                               preset=preset, device=dev, max_depth=max_depth, max_batch=max_batch,
                               checkpointing=checkpointing,
                               precision=precision, callback=cb, known_pairs=known_pairs, context=context,
                               max_context_rows=max_context_rows, checkpoint_dir=checkpoint_dir)
    extra = {"weights": {"path": str(resolved.path), "source": resolved.source,
                         "layers": model.args.layers, "embed_dim": model.args.embed_dim}}
    return result, extra, str(dev)
