# protlm workflow entry point.  The rules live in workflows/ (Snakemake's standard layout:
# workflows/Snakefile, rules/*.smk, config/config.yaml, schemas/config.schema.yaml).
#   snakemake --cores 2                        # both chains on the bundled data/ examples
#   snakemake --cores 2 --configfile my.yaml   # your own family pairs and read sets


include: "workflows/Snakefile"


# Snakemake takes the default target from the top-level Snakefile only.
rule all:
    input:
        all_targets(),
    default_target: True
