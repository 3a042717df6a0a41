"""Pairing interacting paralogs inside each species.

Methods: DiffPALM (MSA Transformer), MI-IPA, random. All return a
:class:`~protlm.pairing.result.PairingResult`.
"""
