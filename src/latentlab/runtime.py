"""Process-wide settings for serving the models on a CPU.

:func:`retain_freed_memory` keeps the C allocator from handing freed memory back to the kernel after each call. A
16-frame morph allocates and frees about 9 MB of activations; with glibc's default settings those pages go back to
the kernel at every ``free`` and the next call takes them again, one page fault per 4 KiB page — about 2,300 faults
per 16-face decode, which are slow in a virtual machine. With the memory kept for reuse there are almost none.
"""

import ctypes
import ctypes.util

#: ``mallopt`` parameters of glibc's ``<malloc.h>``.
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3


def retain_freed_memory(limit_mib: int = 64) -> bool:
    """Keep freed blocks of up to ``limit_mib`` MiB in the process for reuse (glibc ``mallopt``).

    Sets glibc malloc's ``M_MMAP_THRESHOLD`` (blocks smaller than this come from the heap instead of their own
    ``mmap``, which ``free`` would unmap) and ``M_TRIM_THRESHOLD`` (free memory at the top of the heap is returned to
    the kernel only beyond this) to ``limit_mib`` MiB; see ``man 3 mallopt``. The process then holds up to about that
    much freed memory instead of faulting it in again on the next call. Call it once, at start-up; it affects the
    whole process, every thread and library (torch included), from then on.

    Args:
        limit_mib: both thresholds, in MiB (1–512).

    Returns:
        ``True`` when set; ``False`` where the C library has no ``mallopt`` or refuses it (macOS, Windows, musl), which
        changes nothing else.

    Raises:
        ValueError: ``limit_mib`` outside 1–512.
    """
    if not 1 <= limit_mib <= 512:
        raise ValueError(f"limit_mib must be in 1–512, got {limit_mib}")
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    size = limit_mib << 20
    return mallopt(M_MMAP_THRESHOLD, size) == 1 and mallopt(M_TRIM_THRESHOLD, size) == 1
