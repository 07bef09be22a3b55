"""Times onnxruntime on a model: the reference column of tools/bench tables.

usage: ort_bench.py MODEL BATCH THREADS WARMUP ITERATIONS
Prints one JSON object with the same fields as `anetrun bench --json`.
"""
import json
import sys
import time

import numpy as np
import onnxruntime as ort


def main() -> int:
    model, batch, threads, warmup, iterations = sys.argv[1], *map(int, sys.argv[2:6])
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
    inp = session.get_inputs()[0]
    shape = [batch if not isinstance(d, int) else d for d in inp.shape]
    x = np.random.default_rng(0).uniform(-128, 128, size=shape).astype(np.float32)
    for _ in range(warmup):
        session.run(None, {inp.name: x})
    times = []
    for _ in range(iterations):
        start = time.perf_counter()
        session.run(None, {inp.name: x})
        times.append((time.perf_counter() - start) * 1e3)
    t = np.array(times)
    median = float(np.median(t))
    print(json.dumps({
        "min_ms": float(t.min()), "median_ms": median,
        "p90_ms": float(np.percentile(t, 90)), "p99_ms": float(np.percentile(t, 99)),
        "max_ms": float(t.max()), "images_per_s": shape[0] * 1e3 / median,
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
