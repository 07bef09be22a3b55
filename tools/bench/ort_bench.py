"""Times onnxruntime on a model: the reference column of tools/bench tables.

usage: ort_bench.py MODEL BATCH THREADS WARMUP ITERATIONS
Prints one JSON object with the same fields as `anetrun bench --json`.
"""
import json
import sys

import numpy as np
import onnxruntime as ort

from timing import time_runs


def main() -> int:
    model, batch, threads, warmup, iterations = sys.argv[1], *map(int, sys.argv[2:6])
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
    inp = session.get_inputs()[0]
    shape = [batch if not isinstance(d, int) else d for d in inp.shape]
    x = np.random.default_rng(0).uniform(-128, 128, size=shape).astype(np.float32)
    print(json.dumps(time_runs(lambda: session.run(None, {inp.name: x}), shape[0], warmup,
                               iterations)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
