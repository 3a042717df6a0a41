"""Choosing the torch device: ``auto`` means CUDA when present, else CPU."""

from __future__ import annotations

import logging
import re

from protlm.errors import ProtlmError

__all__ = ["DeviceError", "resolve_device", "DEVICE_CHOICES"]

log = logging.getLogger(__name__)

#: The device names accepted on the command line (``cuda:N`` is accepted too).
DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")

_PATTERN = re.compile(r"^(auto|cpu|mps|cuda(:\d+)?)$")


class DeviceError(ProtlmError, ValueError):
    """A device name that is invalid or not available on this machine."""


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
    protlm.models.device.DeviceError: unknown device 'tpu'; choose one of auto, cpu, cuda, cuda:N, mps
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
