"""Oracle for the whole-model tests: runs an ONNX model with onnxruntime.

usage: ort_run.py MODEL INPUT.npy OUT_PREFIX
Feeds INPUT.npy to the model's first input and writes each output as
OUT_PREFIX<i>.npy. Single-threaded, no graph optimisations, so the result is
the operators' plain definition.
"""
import sys

import numpy as np
import onnxruntime as ort


def main() -> int:
    model, input_path, prefix = sys.argv[1:4]
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
    x = np.load(input_path)
    outputs = session.run(None, {session.get_inputs()[0].name: x})
    for i, y in enumerate(outputs):
        np.save(f"{prefix}{i}.npy", np.asarray(y, dtype=np.float32))
    return 0


if __name__ == "__main__":
    sys.exit(main())
