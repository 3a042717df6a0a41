"""Pairing interacting paralogs inside each species.

Methods: DiffPALM (MSA Transformer); weights-free MI-IPA, entropy bootstrap, entropy IPA, DiffPaSS; random. All return a
:class:`~protlm.pairing.result.PairingResult`.
"""
