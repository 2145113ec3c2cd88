"""Shared helpers of the benchmarks: timing, memory, tables, environment."""
import os
import platform
import resource
import time
from typing import Callable, Dict, Sequence, Tuple

import numpy as np
import torch

__all__ = [
    'peak_rss_mib', 'current_rss_mib', 'best_time', 'print_table',
    'environment'
]


def peak_rss_mib() -> float:
    """Peak resident set size of this process, in MiB (Linux: KiB units)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def current_rss_mib() -> float:
    """Current resident set size of this process in MiB (NaN if unknown)."""
    try:
        with open('/proc/self/status') as f:
            for line in f:
                if line.startswith('VmRSS:'):
                    return int(line.split()[1]) / 1024.0
    except OSError:  # pragma: no cover - not Linux
        pass
    return float('nan')


def best_time(fn: Callable[[], object], runs: int) -> Tuple[float, object]:
    """Run ``fn`` ``runs`` times and return the best wall time and the last
    output.

    Args:
        fn (Callable): The function to time.
        runs (int): Number of runs (at least 1).

    Returns:
        tuple[float, object]: Best time in seconds and ``fn()``'s output.
    """
    best, out = float('inf'), None
    for _ in range(max(1, runs)):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return best, out


def print_table(rows: Sequence[Sequence[str]], header: Sequence[str]) -> None:
    """Print a small left-aligned text table."""
    widths = [
        max(len(str(r[i])) for r in list(rows) + [header])
        for i in range(len(header))
    ]
    line = '  '.join(f'{h:<{w}}' for h, w in zip(header, widths))
    print(line)
    print('-' * len(line))
    for r in rows:
        print('  '.join(f'{str(c):<{w}}' for c, w in zip(r, widths)))


def environment() -> Dict[str, object]:
    """Versions and machine facts recorded with every benchmark."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover
        cores = os.cpu_count()
    return dict(
        python=platform.python_version(),
        numpy=np.__version__,
        torch=torch.__version__,
        machine=platform.machine(),
        processor=platform.processor(),
        cpu_model=_cpu_model(),
        cpu_cores=cores,
        cpu_bf16_isa=_cpu_flags(('avx512_bf16', 'amx_bf16', 'avx512f')),
        torch_threads=torch.get_num_threads())


def _cpuinfo_lines():
    try:
        with open('/proc/cpuinfo') as f:
            return f.read().splitlines()
    except OSError:  # pragma: no cover - not Linux
        return []


def _cpu_model() -> str:
    """The CPU's model name (Linux), else ``platform.processor()``."""
    for line in _cpuinfo_lines():
        if line.startswith('model name'):
            return line.split(':', 1)[1].strip()
    return platform.processor()


def _cpu_flags(wanted) -> list:
    """Which of ``wanted`` CPU flags the machine has (Linux)."""
    for line in _cpuinfo_lines():
        if line.startswith('flags'):
            flags = set(line.split(':', 1)[1].split())
            return [flag for flag in wanted if flag in flags]
    return []
