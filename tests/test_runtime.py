"""latentlab.runtime: freed memory kept for reuse, measured as the page faults of a repeated allocation."""

import platform
import subprocess
import sys

import pytest

from latentlab.runtime import retain_freed_memory

# Minor page faults per malloc + memset + free of a 40 MiB block (above the largest mmap threshold glibc picks by
# itself, 32 MiB) in a fresh interpreter; argv[1] = "retain" calls retain_freed_memory(64) first.
FAULTS = """
import ctypes, resource, sys
from latentlab.runtime import retain_freed_memory
if sys.argv[1] == "retain" and not retain_freed_memory(64):
    sys.exit("mallopt refused")
libc = ctypes.CDLL(None)
libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
libc.free.argtypes, libc.memset.argtypes = [ctypes.c_void_p], [ctypes.c_void_p, ctypes.c_int, ctypes.c_size_t]
def touch(size=40 << 20):
    block = libc.malloc(size)
    libc.memset(block, 1, size)
    libc.free(block)
touch()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(10):
    touch()
print((resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 10)
"""


def faults_per_allocation(mode: str) -> float:
    out = subprocess.run([sys.executable, "-c", FAULTS, mode], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return float(out.stdout.strip().splitlines()[-1])


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt thresholds are glibc's")
def test_retained_memory_is_reused_without_page_faults():
    default, retained = faults_per_allocation("default"), faults_per_allocation("retain")
    # by default each 40 MiB block is mmapped and unmapped again: one fault per 4 KiB page (≈ 10,240)
    assert default > 5000 and retained < 100, (default, retained)


def test_retain_freed_memory_refuses_a_limit_out_of_range():
    for bad in (0, 513, -1):
        with pytest.raises(ValueError, match="limit_mib"):
            retain_freed_memory(bad)
