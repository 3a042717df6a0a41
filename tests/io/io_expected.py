"""Expected contents of ../shared/data, as listed in its SOURCES.md."""

# file (relative to shared/data) -> (format, n_sequences, n_match_columns or None)
MSA_FILES = {
    "msa/hhblits_uniclust_2017_10_1a3a_1_A.a3m": ("a3m", 1303, 145),
    "msa/hhblits_uniclust_2017_10_5ahw_1_A.a3m": ("a3m", 1631, 125),
    "msa/UniRef50_E9K9Y4.a3m": ("a3m", 17, 98),
    "msa/query.a3m": ("a3m", 59, 431),
    "msa/bfd_uniclust_hits.a3m": ("a3m", 1024, 73),
    "msa/uniref90_hits.sto": ("stockholm", 57, None),
    "msa/mgnify_hits.sto": ("stockholm", 59, None),
    "msa/fn3.sto": ("stockholm", 98, None),
    "msa/Pkinase.sto": ("stockholm", 38, None),
    "msa/globins4.sto": ("stockholm", 4, None),
    "msa/example.sth": ("stockholm", 3, None),
    "msa/pfam8.seed.sto": ("stockholm", 95, None),
    "msa/protein.aln": ("clustal", 20, None),
    "msa/hedgehog.aln": ("clustal", 5, None),
    "msa/muscle.aln": ("clustal", 3, None),
    "msa/PF00072_seed_hmmalign_no_inserts.fasta": ("fasta", 52, 112),
    "msa/PF00512_seed_hmmalign_no_inserts.fasta": ("fasta", 265, 67),
    "pairing/hkrr_standard.fasta": ("fasta", 5109, 176),
    "pairing/hkrr_standard_575.fasta": ("fasta", 577, 176),
    "pairing/malg.fasta": ("fasta", 5005, 177),
    "pairing/malk.fasta": ("fasta", 5005, 142),
}

# unaligned FASTA: file -> (n_sequences, n_residues or None)
SEQ_FILES = {
    "proteomes/ecoli_k12_UP000000625.fasta": (4352, 1_353_365),
    "proteomes/uniprot_sample_20k.fasta.gz": (20000, None),
    "uniref/esm_some_proteins_uniref50_ids.fasta": (15, None),
}

SMALL_PER_FORMAT = {
    "a3m": "msa/UniRef50_E9K9Y4.a3m",
    "stockholm": "msa/fn3.sto",
    "clustal": "msa/protein.aln",
    "fasta": "msa/PF00072_seed_hmmalign_no_inserts.fasta",
}
