"""Optional compiled kernels (numba): the switch, the thread count and the ``jit`` decorator.

Everything compiled in cnnbp is an *optional* speed-up. cnnbp runs without
numba, on its NumPy algorithms; when numba is installed (``pip install
cnnbp[fast]``), ``algorithm="auto"`` uses the compiled convolution loops of
:mod:`cnnbp.functional.conv.compiled` for stride-1, undilated convolutions
(see :func:`cnnbp.functional.conv.choose_algorithm`). Every compiled kernel
computes the sums of a readable reference and is tested against it.

Set the environment variable ``CNNBP_NUMBA=0`` (read at import), or call
:func:`set_enabled` (False), to run on NumPy alone where numba is installed.
"""

from __future__ import annotations

import os

try:  # numba is optional: the "fast" extra
    import numba

    NUMBA_AVAILABLE = True
except ImportError:  # pragma: no cover - exercised where numba is absent
    numba = None
    NUMBA_AVAILABLE = False

_enabled = NUMBA_AVAILABLE and os.environ.get("CNNBP_NUMBA", "1").lower() not in ("0", "false", "no")


def available() -> bool:
    """True when the compiled kernels are used: numba is installed and not switched off."""
    return _enabled


def set_enabled(flag: bool) -> bool:
    """Switch the compiled kernels on or off (e.g. to test the NumPy paths); returns the old state.

    Raises:
        RuntimeError: when asked to switch them on without numba installed.
    """
    global _enabled
    if flag and not NUMBA_AVAILABLE:
        raise RuntimeError("the compiled kernels need numba: pip install 'cnnbp[fast]'")
    old, _enabled = _enabled, bool(flag)
    return old


def num_threads() -> int:
    """Threads the compiled kernels split the batch over (numba's pool); 1 without numba."""
    return numba.get_num_threads() if NUMBA_AVAILABLE else 1


def set_threads(n: int):
    """Use ``n`` threads for BLAS (through threadpoolctl, when installed) and for numba's pool.

    Returns the threadpoolctl limiter (keep it alive for as long as the limit should
    hold), or None. On a shared or busy machine one thread is often fastest: LeNet's
    matrices are small, and idle pools that spin compete for the cores.
    """
    if n < 1:
        raise ValueError(f"the thread count must be >= 1, got {n}")
    limiter = None
    try:
        from threadpoolctl import threadpool_limits

        limiter = threadpool_limits(n)
    except ImportError:
        pass
    if NUMBA_AVAILABLE:
        numba.set_num_threads(min(n, numba.config.NUMBA_NUM_THREADS))
    return limiter


def describe() -> str:
    """One line for benchmarks: which path computes."""
    if not NUMBA_AVAILABLE:
        return "NumPy (numba not installed)"
    if not _enabled:
        return f"NumPy (numba {numba.__version__} switched off)"
    return f"numba {numba.__version__} kernels, {numba.get_num_threads()} threads"


def jit(fn=None, *, parallel: bool = False, fastmath: bool = True):
    """``numba.njit`` with cnnbp's options (cached on disk, fastmath, no GIL).

    ``fastmath=False`` for kernels that must see NaN (fastmath assumes there is none).
    Without numba it returns the function unchanged, so a module can define its
    kernels unconditionally (they are then only called by tests, if at all).
    """
    def wrap(f):
        if not NUMBA_AVAILABLE:
            return f
        return numba.njit(parallel=parallel, nogil=True, fastmath=fastmath, cache=True)(f)

    return wrap(fn) if fn is not None else wrap


#: ``numba.prange`` (the loop split over threads) or plain ``range`` without numba.
prange = numba.prange if NUMBA_AVAILABLE else range
