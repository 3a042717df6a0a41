# Helpers shared by the pairing, sequencing and complexes rules.


def pairing_families():
    if not config["pairing"]["enabled"]:
        return []
    return list(config["pairing"]["families"])


def known_sets():
    if not config["sequencing"]["enabled"]:
        return []
    return list(config["sequencing"]["known_sets"])


def all_targets():
    targets = []
    if pairing_families():
        targets += [f"{OUT}/pairing/summary.tsv", f"{OUT}/pairing/summary.png"]
    if known_sets():
        targets += [f"{OUT}/sequencing/summary.tsv", f"{OUT}/sequencing/summary.png"]
    targets += complex_targets()
    return targets


def family(wildcards):
    return config["pairing"]["families"][wildcards.family]


def family_inputs(wildcards):
    fam = family(wildcards)
    return [fam["left"], fam["right"]] if fam.get("right") else [fam["left"]]


def truth_option(wildcards):
    truth = family(wildcards).get("truth")
    return f"--truth {truth}" if truth else ""


def split_option(wildcards):
    split_at = family(wildcards).get("split_at")
    return f"--split-at {split_at}" if split_at else ""


def family_method(wildcards):
    """A family entry's pairing method: its own ``method`` or the pairing section's."""
    return family(wildcards).get("method", config["pairing"]["method"])


def runs_option(wildcards):
    """--runs for DiffPALM families (the pairing section's ``runs``); other methods keep their own default."""
    return f"--runs {config['pairing']['runs']}" if family_method(wildcards) == "diffpalm" else ""


def weights_option(wildcards):
    weights = family(wildcards).get("weights", config["pairing"].get("weights"))
    return f"--model {weights}" if weights and family_method(wildcards) == "diffpalm" else ""


def family_extra_inputs(wildcards):
    """Taxonomy sources, context MSAs and pairs files of a family entry (a complex), so Snakemake tracks them."""
    fam = family(wildcards)
    files = list(_as_list(fam.get("taxonomy")))
    ctx = fam.get("context") or {}
    files += [ctx[k] for k in ("left", "right", "pairs") if ctx.get(k)]
    return files + ([fam["known_pairs"]] if fam.get("known_pairs") else [])


def _as_list(value):
    return [] if not value else [value] if isinstance(value, str) else list(value)


def family_options(wildcards):
    """protlm pair options of a complex entry: --taxonomy, --context, --context-pairs, --homology-weight,
    --known-pairs, --max-rows."""
    fam = family(wildcards)
    opts = [f"--taxonomy {t}" for t in _as_list(fam.get("taxonomy"))]
    ctx = fam.get("context") or {}
    if ctx:
        opts.append(f"--context {ctx['left']} {ctx['right']}")
        if ctx.get("pairs"):
            opts.append(f"--context-pairs {ctx['pairs']}")
        if ctx.get("homology_weight") is not None:
            opts.append(f"--homology-weight {ctx['homology_weight']}")
    if fam.get("known_pairs"):
        opts.append(f"--known-pairs {fam['known_pairs']}")
    if fam.get("max_rows"):
        opts.append(f"--max-rows {fam['max_rows']}")
    return " ".join(opts)


def reference_option(wildcards):
    """--reference, and --digest trypsin for tryptic reads (peptides start after a cleavage site)."""
    seq = config["sequencing"]
    ref = seq.get("reference")
    if not ref:
        return ""
    return f"--reference {ref}" + (" --digest trypsin" if seq.get("fragment") == "tryptic" else "")


def errors_option(wildcards):
    seq = config["sequencing"]
    cycles = seq.get("cycles")
    return f"--errors {seq.get('errors') or 'none'}" + (f" --cycles {cycles}" if cycles else "")


def max_reads_option(wildcards):
    n = config["sequencing"].get("max_reads")
    return f"--max-reads {n}" if n else ""


def n_chunks():
    """Chunks the identification search is scattered into (1: one predict_reads job does it all)."""
    n = int(config["sequencing"].get("chunks") or 1)
    if n > 1 and not config["sequencing"].get("reference"):
        raise ValueError("sequencing.chunks > 1 scatters the identification search: it needs sequencing.reference")
    return n


def chunk_scores(wildcards):
    """The scores of every identify_chunk job of a known set (none when chunks is 1)."""
    n = n_chunks()
    if n == 1:
        return []
    return [f"{OUT}/sequencing/{wildcards.known}/chunks/{i}/scores.tsv" for i in range(1, n + 1)]


def sequencing_inputs(wildcards):
    inputs = {
        "reads": f"{OUT}/sequencing/{wildcards.known}/reads.fasta",
        "truth": f"{OUT}/sequencing/{wildcards.known}/truth.fasta",
    }
    if config["sequencing"].get("reference"):
        inputs["reference"] = config["sequencing"]["reference"]
    return inputs


def complex_names():
    section = config.get("complexes", {})
    if not section.get("enabled", False):
        return []
    return list(section["queries"])


def complex_targets():
    return [f"{OUT}/complexes/{name}/pairing/report.json" for name in complex_names()]


def complex_entry(wildcards):
    return config["complexes"]["queries"][wildcards.complex]


def complex_query_file(wildcards):
    entry = complex_entry(wildcards)
    return entry["fasta"] if entry.get("fasta") else f"{OUT}/complexes/{wildcards.complex}/queries.fasta"


def complex_fasta_text(wildcards):
    """The two inline query sequences as FASTA text for printf (chain1, chain2)."""
    seqs = complex_entry(wildcards)["sequences"]
    return "".join(f">{wildcards.complex}_chain{k}\\n{s}\\n" for k, s in enumerate(seqs, 1))


def complex_max_hits_option(wildcards):
    n = config["complexes"].get("max_hits")
    return f"--max-hits {n}" if n else ""
