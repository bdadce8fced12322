"""The machine-state probe timed before the processes of every run (libtorch_bench.sampling): how
fast this machine copies memory and computes right now. It runs in the sampler's own process: a
probe that starts a process of its own pays for loading a libtorch (about 0.4 s, 150 times in a
default run) to time a few milliseconds of work. Its readings are judged against the run's own
median (libtorch_bench.machine), so only their changes matter, not their absolute values."""

import functools
import time

import numpy as np

MEMORY_BYTES = 16 << 20  # past the caches (1 MiB L2 per core here)
CHAIN = 200_000  # a dependent chain: latency-bound, as long as a few milliseconds


def median_ns(work, repeats=3):
    times = []
    for _ in range(repeats):
        start = time.perf_counter_ns()
        work()
        times.append(time.perf_counter_ns() - start)
    return sorted(times)[repeats // 2]


@functools.cache
def buffers():
    """The two 16 MiB buffers, made and touched once: fresh ones would time page faults."""
    return np.ones(MEMORY_BYTES, np.uint8), np.ones(MEMORY_BYTES, np.uint8)


def machine_probe():
    """{'memory_ns', 'compute_ns'}: the median of 3 of a 16 MiB copy and of a dependent chain."""
    source, target = buffers()

    def chain():
        x = 1.0
        for _ in range(CHAIN):
            x = x * 1.0000001 + 1e-9
        return x

    return {"memory_ns": median_ns(lambda: np.copyto(target, source)), "compute_ns": median_ns(chain)}
