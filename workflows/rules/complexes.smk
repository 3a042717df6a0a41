# Complexes chain: two query sequences -> one MSA per chain (protlm msa, species in the headers)
# -> pairing within species (protlm pair) -> the structure-prediction inputs that protlm pair writes.


rule complex_queries:
    output:
        f"{OUT}/complexes/{{complex}}/queries.fasta",
    log:
        f"{OUT}/logs/complex_queries_{{complex}}.log",
    params:
        fasta=complex_fasta_text,
    threads: 1
    conda:
        "../envs/protlm.yaml"
    shell:
        "printf '{params.fasta}' > {output} 2> {log}"


rule complex_msa:
    input:
        query=complex_query_file,
        db=lambda wc: complex_entry(wc)["database"],
    output:
        a3m=f"{OUT}/complexes/{{complex}}/chain{{chain}}.a3m",
        table=f"{OUT}/complexes/{{complex}}/chain{{chain}}_hits.tsv",
    log:
        f"{OUT}/logs/complex_msa_{{complex}}_chain{{chain}}.log",
    wildcard_constraints:
        chain="[12]",
    params:
        engine=config["complexes"]["engine"],
        iterations=config["complexes"]["iterations"],
        evalue=config["complexes"]["evalue"],
        min_coverage=config["complexes"]["min_coverage"],
        max_hits=complex_max_hits_option,
    threads: config["complexes"]["threads"]
    conda:
        "../envs/protlm.yaml"
    shell:
        "protlm msa {input.query} --record {wildcards.chain} --db {input.db} -o {output.a3m}"
        " --table {output.table} --engine {params.engine} --iterations {params.iterations}"
        " --evalue {params.evalue} --min-coverage {params.min_coverage} {params.max_hits}"
        " --threads {threads} --overwrite 2> {log}"


# The structure-prediction inputs are protlm pair's: paired.a3m (ColabFold), af3_input.json
# (AlphaFold 3), boltz/ (Boltz YAML + per-chain CSV MSAs).
rule pair_complex:
    input:
        left=f"{OUT}/complexes/{{complex}}/chain1.a3m",
        right=f"{OUT}/complexes/{{complex}}/chain2.a3m",
    output:
        pairs=f"{OUT}/complexes/{{complex}}/pairing/pairs.tsv",
        a3m=f"{OUT}/complexes/{{complex}}/pairing/paired.a3m",
        af3=f"{OUT}/complexes/{{complex}}/pairing/af3_input.json",
        boltz=directory(f"{OUT}/complexes/{{complex}}/pairing/boltz"),
        report=f"{OUT}/complexes/{{complex}}/pairing/report.json",
    log:
        f"{OUT}/logs/pair_complex_{{complex}}.log",
    params:
        key=lambda wc: complex_entry(wc).get("species_key", "auto"),
        method=config["complexes"]["method"],
        seed=config["complexes"]["seed"],
    threads: config["complexes"]["threads"]
    conda:
        "../envs/protlm.yaml"
    shell:
        "protlm pair {input.left} {input.right} -o $(dirname {output.pairs}) --overwrite"
        " --method {params.method} --species-key '{params.key}' --seed {params.seed}"
        " --threads {threads} 2> {log}"
