# Sequencing chain: simulate partial reads per known set (with the configured read errors), identify them
# against the reference at 1 % FDR and reconstruct them, summarise across known sets.
# With `chunks: N` > 1 the identification search is scattered: N identify_chunk jobs each search one
# contiguous chunk of the reads (protlm sequence --chunk I/N), and predict_reads gathers their scores
# (--gather), computing the q-values once over all reads, as target-decoy competition requires.


rule simulate_reads:
    input:
        config["sequencing"]["input"],
    output:
        reads=f"{OUT}/sequencing/{{known}}/reads.fasta",
        truth=f"{OUT}/sequencing/{{known}}/truth.fasta",
    log:
        f"{OUT}/logs/simulate_{{known}}.log",
    params:
        efficiency=config["sequencing"]["efficiency"],
        seed=config["sequencing"]["seed"],
        fragment=config["sequencing"].get("fragment") or "none",
        max_reads=max_reads_option,
        errors=errors_option,
    threads: 1
    conda:
        "../envs/protlm.yaml"
    shell:
        "protlm simulate {input} -o {output.reads} --truth-out {output.truth}"
        " --known {wildcards.known} --efficiency {params.efficiency} --fragment {params.fragment}"
        " --seed {params.seed} {params.max_reads} {params.errors} --overwrite 2> {log}"


rule identify_chunk:
    input:
        reads=f"{OUT}/sequencing/{{known}}/reads.fasta",
        reference=lambda wildcards: config["sequencing"]["reference"],
    output:
        scores=f"{OUT}/sequencing/{{known}}/chunks/{{chunk}}/scores.tsv",
        report=f"{OUT}/sequencing/{{known}}/chunks/{{chunk}}/report.json",
    log:
        f"{OUT}/logs/identify_{{known}}_chunk{{chunk}}.log",
    wildcard_constraints:
        chunk=r"\d+",
    params:
        efficiency=config["sequencing"]["efficiency"],
        seed=config["sequencing"]["seed"],
        reference=reference_option,
        n_chunks=n_chunks(),
    threads: config["sequencing"]["threads"]
    conda:
        "../envs/protlm.yaml"
    shell:
        "protlm sequence {input.reads} -o $(dirname {output.scores}) --overwrite --chunk {wildcards.chunk}/{params.n_chunks}"
        " --known {wildcards.known} --efficiency {params.efficiency} --threads {threads} --seed {params.seed}"
        " {params.reference} 2> {log}"


rule predict_reads:
    input:
        unpack(sequencing_inputs),
        chunks=chunk_scores,
    output:
        fasta=f"{OUT}/sequencing/{{known}}/prediction/predictions.fasta",
        positions=f"{OUT}/sequencing/{{known}}/prediction/positions.tsv",
        report=f"{OUT}/sequencing/{{known}}/prediction/report.json",
    log:
        f"{OUT}/logs/sequence_{{known}}.log",
    params:
        efficiency=config["sequencing"]["efficiency"],
        seed=config["sequencing"]["seed"],
        reference=reference_option,
        # simulated fragments are peptides: their ends are not their proteins' termini
        peptides="" if (config["sequencing"].get("fragment") or "none") == "none" else "--peptides",
        gather=lambda wildcards, input: " ".join(f"--gather {p.rsplit('/', 1)[0]}" for p in input.chunks),
    threads: config["sequencing"]["threads"]
    conda:
        "../envs/protlm.yaml"
    shell:
        "protlm sequence {input.reads} -o $(dirname {output.report}) --overwrite"
        " --known {wildcards.known} --efficiency {params.efficiency} --truth {input.truth}"
        " --threads {threads} --seed {params.seed} {params.reference} {params.peptides} {params.gather} 2> {log}"


rule summarize_sequencing:
    input:
        expand(f"{OUT}/sequencing/{{known}}/prediction/report.json", known=known_sets()),
    output:
        table=f"{OUT}/sequencing/summary.tsv",
        plot=f"{OUT}/sequencing/summary.png",
    log:
        f"{OUT}/logs/summarize_sequencing.log",
    params:
        names=" ".join(f"--name {k}" for k in known_sets()),
    threads: 1
    conda:
        "../envs/protlm.yaml"
    shell:
        "protlm summarize sequencing {input} {params.names} -o {output.table} --plot {output.plot} 2> {log}"
