"""Choosing the torch device: ``auto`` means CUDA when present, else CPU."""

from __future__ import annotations

import logging
import re

from protlm.errors import DeviceError

__all__ = ["DeviceError", "resolve_device", "DEVICE_CHOICES", "PRECISIONS", "resolve_precision", "fast_bf16"]

log = logging.getLogger(__name__)

#: The device names accepted on the command line (``cuda:N`` is accepted too).
DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")

_PATTERN = re.compile(r"^(auto|cpu|mps|cuda(:\d+)?)$")

#: Arithmetic of the frozen model's forward and backward passes: ``auto`` is
#: ``bf16`` where the device multiplies bfloat16 natively (CPUs with AMX-BF16,
#: CUDA GPUs of compute capability 8 or more), else ``fp32``.
PRECISIONS = ("auto", "fp32", "bf16")


def resolve_device(device="auto"):
    """Turn a device name into a :class:`torch.device`, and log the choice.

    Parameters
    ----------
    device : str or torch.device
        ``"auto"`` (CUDA if available, else CPU), ``"cpu"``, ``"cuda"``,
        ``"cuda:N"`` or ``"mps"``.

    Returns
    -------
    torch.device

    Raises
    ------
    DeviceError
        If the name is not one of the choices, or the device is not available.

    Examples
    --------
    >>> resolve_device("cpu")
    device(type='cpu')
    >>> resolve_device("tpu")
    Traceback (most recent call last):
    ...
    protlm.errors.DeviceError: unknown device 'tpu'; choose one of auto, cpu, cuda, cuda:N, mps
    """
    import torch

    if isinstance(device, torch.device):
        name = str(device)
    else:
        name = str(device).strip().lower()
    if not _PATTERN.match(name):
        raise DeviceError(f"unknown device {device!r}; choose one of auto, cpu, cuda, cuda:N, mps")
    if name == "auto":
        chosen = torch.device("cuda") if torch.cuda.is_available() else torch.device("cpu")
        log.info("device auto -> %s", chosen)
        return chosen
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise DeviceError(f"device {name!r} requested but CUDA is not available on this machine; use --device cpu")
        index = int(name.split(":")[1]) if ":" in name else 0
        if index >= torch.cuda.device_count():
            raise DeviceError(f"device {name!r} requested but only {torch.cuda.device_count()} CUDA device(s) exist")
    if name == "mps" and not (hasattr(torch.backends, "mps") and torch.backends.mps.is_available()):
        raise DeviceError("device 'mps' requested but MPS is not available on this machine; use --device cpu")
    chosen = torch.device(name)
    log.info("device %s", chosen)
    return chosen


def _cpu_flags() -> set:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def fast_bf16(device) -> bool:
    """Whether ``device`` (a :class:`torch.device`) multiplies bfloat16 matrices natively.

    Parameters
    ----------
    device : torch.device
        The device to ask about.

    CPUs: the ``amx_bf16`` flag (Linux ``/proc/cpuinfo``; ``False`` elsewhere).
    CUDA: compute capability 8.0 or more (Ampere, Hopper...).

    Examples
    --------
    >>> import torch
    >>> fast_bf16(torch.device("mps"))
    False
    """
    import torch

    if device.type == "cuda":
        return torch.cuda.is_available() and torch.cuda.get_device_capability(device)[0] >= 8
    if device.type == "cpu":
        return "amx_bf16" in _cpu_flags()
    return False


def resolve_precision(precision, device) -> str:
    """``"fp32"`` or ``"bf16"`` for ``precision`` in :data:`PRECISIONS` on ``device``.

    Parameters
    ----------
    precision : str
        One of :data:`PRECISIONS` (``"auto"`` chooses by device).
    device : torch.device
        The device the model runs on.

    Examples
    --------
    >>> import torch
    >>> resolve_precision("fp32", torch.device("cpu"))
    'fp32'
    >>> resolve_precision("fp16", torch.device("cpu"))
    Traceback (most recent call last):
    ...
    protlm.errors.DeviceError: unknown precision 'fp16'; choose one of auto, fp32, bf16
    """
    if precision not in PRECISIONS:
        raise DeviceError(f"unknown precision {precision!r}; choose one of {', '.join(PRECISIONS)}")
    if precision == "auto":
        precision = "bf16" if fast_bf16(device) else "fp32"
        log.info("precision auto -> %s on %s", precision, device)
    return precision
