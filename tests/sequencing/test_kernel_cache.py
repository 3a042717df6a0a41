"""numba caches compiled kernels per source file: a kernel file that compiles in another's functions records
that file's hash, so that changing the callee changes the caller's file and invalidates its cache."""

import hashlib
from pathlib import Path

from protlm.sequencing import _identify_kernels, _seed_kernels


def test_identify_kernels_record_the_seed_kernels_they_compile_in():
    digest = hashlib.sha256(Path(_seed_kernels.__file__).read_bytes()).hexdigest()[:16]
    assert _identify_kernels.SEED_KERNELS_SHA256 == digest, (
        "protlm/sequencing/_seed_kernels.py changed: set SEED_KERNELS_SHA256 in _identify_kernels.py to "
        f"{digest!r} (numba would otherwise keep the stale compiled search)")
