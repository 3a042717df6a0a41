"""Partial peptide sequencing: reads, simulation, the masked-residue predictor, training, evaluation.

Importing this package loads no torch; the heavy modules (``model``,
``predictor``, ``training``) are imported where they are used.
"""
