"""Loading and building models: one weights resolver, device choice, fair-esm's MSA Transformer.

Nothing is imported or loaded here at import time; import the submodules
(:mod:`protlm.models.weights`, :mod:`protlm.models.device`,
:mod:`protlm.models.esm_msa`) where needed.
"""
