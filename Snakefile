# protlm workflow entry point: everything lives in workflows/ (Snakemake's standard layout).
include: "workflows/Snakefile"
