"""The timing loop of tools/bench's reference columns (ort_bench.py,
torch_bench.py, torch_alexnet.py): the same statistics `anetrun bench --json` prints."""
import time


def percentile(ordered, p):
    """The p-th percentile of the sorted list `ordered`, interpolated
    linearly between the closest ranks (numpy.percentile's default)."""
    x = p / 100 * (len(ordered) - 1)
    lo = int(x)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (x - lo)


def time_runs(step, batch, warmup, iterations):
    """Runs step() `warmup` times untimed, then `iterations` times timed;
    returns min/median/p90/p99/max in ms and images/s (batch / median).
    Plain Python: the GPU machine's PyTorch may come without numpy."""
    for _ in range(warmup):
        step()
    times = []
    for _ in range(iterations):
        start = time.perf_counter()
        step()
        times.append((time.perf_counter() - start) * 1e3)
    times.sort()
    median = percentile(times, 50)
    return {
        "min_ms": times[0], "median_ms": median,
        "p90_ms": percentile(times, 90), "p99_ms": percentile(times, 99),
        "max_ms": times[-1], "images_per_s": batch * 1e3 / median,
    }
