"""protlm: protein language modelling toolkit.

Pairing interacting paralogs with DiffPALM (``protlm pair``), reconstructing
partial peptide reads (``protlm sequence``), and streaming readers for MSA and
UniRef/UniProt formats (``protlm.io``).

Importing :mod:`protlm` is cheap: it loads no model and does not import torch.
"""

__version__ = "0.1.0"

from protlm.errors import FormatError, ProtlmError, WeightsNotFoundError  # noqa: E402

__all__ = ["__version__", "ProtlmError", "FormatError", "WeightsNotFoundError"]
