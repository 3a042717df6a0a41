"""Fixtures for the sequencing tests: tiny random models and small read files."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


@pytest.fixture(scope="session")
def benchmark_module():
    """``benchmark_module(name)``: ``benchmarks/<name>.py`` imported by its path (benchmarks/ is no package)."""
    def load(name):
        spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    return load


@pytest.fixture(scope="session")
def tiny_model_path(tmp_path_factory):
    """A tiny random SequencerModel saved in protlm's weights format."""
    import torch

    from protlm.models.sequencer import save_sequencer
    from protlm.models.sequencer_model import SequencerModel

    torch.manual_seed(0)
    model = SequencerModel(d_model=16, n_layers=1, n_heads=2, d_ff=32, max_len=32, dropout=0.0)
    path = tmp_path_factory.mktemp("weights") / "tiny.pt"
    save_sequencer(model, path, metadata={"name": "tiny-random"})
    return path


@pytest.fixture(scope="session")
def tiny_backend(tiny_model_path):
    from protlm.sequencing.backends import ModelBackend

    return ModelBackend.from_weights(tiny_model_path, device="cpu")


@pytest.fixture(scope="session")
def ecoli_records(data):
    """The first 40 E. coli K-12 proteins (real sequences)."""
    import itertools

    from protlm.io import iter_fasta

    return list(itertools.islice(iter_fasta(data("proteomes/ecoli_k12_UP000000625.fasta")), 40))
