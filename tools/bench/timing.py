"""The timing loop of tools/bench's reference columns (ort_bench.py,
torch_bench.py): the same statistics `anetrun bench --json` prints."""
import time

import numpy as np


def time_runs(step, batch, warmup, iterations):
    """Runs step() `warmup` times untimed, then `iterations` times timed;
    returns min/median/p90/p99/max in ms and images/s (batch / median)."""
    for _ in range(warmup):
        step()
    times = []
    for _ in range(iterations):
        start = time.perf_counter()
        step()
        times.append((time.perf_counter() - start) * 1e3)
    t = np.array(times)
    median = float(np.median(t))
    return {
        "min_ms": float(t.min()), "median_ms": median,
        "p90_ms": float(np.percentile(t, 90)), "p99_ms": float(np.percentile(t, 99)),
        "max_ms": float(t.max()), "images_per_s": batch * 1e3 / median,
    }
