# Pairing chain: inspect the two MSAs, pair paralogs within species, summarise across family pairs.
# A family entry can be a complex: two A3Ms (e.g. ColabFold/MMseqs2 unpaired MSAs), a taxonomy source and
# optional context; every entry gets paired.a3m, af3_input.json and boltz/ (what protlm pair writes).


rule inspect_family:
    input:
        family_inputs,
    output:
        f"{OUT}/pairing/{{family}}/inspect.json",
    log:
        f"{OUT}/logs/inspect_{{family}}.log",
    params:
        key=lambda wc: family(wc)["species_key"],
    threads: 1
    conda:
        "../envs/protlm.yaml"
    shell:
        "protlm inspect --json --species-key '{params.key}' {input} > {output} 2> {log}"


rule pair_family:
    input:
        msas=family_inputs,
        inspected=f"{OUT}/pairing/{{family}}/inspect.json",
        extra=family_extra_inputs,
    output:
        pairs=f"{OUT}/pairing/{{family}}/pairs.tsv",
        a3m=f"{OUT}/pairing/{{family}}/paired.a3m",
        af3=f"{OUT}/pairing/{{family}}/af3_input.json",
        boltz=directory(f"{OUT}/pairing/{{family}}/boltz"),
        report=f"{OUT}/pairing/{{family}}/report.json",
    log:
        f"{OUT}/logs/pair_{{family}}.log",
    params:
        key=lambda wc: family(wc)["species_key"],
        method=family_method,
        steps=config["pairing"]["steps"],
        runs=runs_option,
        seed=config["pairing"]["seed"],
        device=config["pairing"]["device"],
        truth=truth_option,
        split=split_option,
        weights=weights_option,
        extra=family_options,
    threads: config["pairing"]["threads"]
    conda:
        "../envs/protlm.yaml"
    resources:
        gpu=1 if config["pairing"]["gpu"] else 0,
    shell:
        "protlm pair {input.msas} -o $(dirname {output.pairs}) --overwrite"
        " --method {params.method} --species-key '{params.key}' --steps {params.steps}"
        " {params.runs} --seed {params.seed} --device {params.device}"
        " {params.weights} {params.truth} {params.split} {params.extra} 2> {log}"


rule summarize_pairing:
    input:
        expand(f"{OUT}/pairing/{{family}}/report.json", family=pairing_families()),
    output:
        table=f"{OUT}/pairing/summary.tsv",
        plot=f"{OUT}/pairing/summary.png",
    log:
        f"{OUT}/logs/summarize_pairing.log",
    threads: 1
    conda:
        "../envs/protlm.yaml"
    shell:
        "protlm summarize pairing {input} -o {output.table} --plot {output.plot} 2> {log}"
