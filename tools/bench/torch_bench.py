"""Times PyTorch CPU on an ONNX classifier: a reference column of tools/bench.

usage: torch_bench.py MODEL.onnx BATCH THREADS WARMUP ITERATIONS infer|train [cpu|cuda]
The ONNX graph runs through torch.nn.functional (tests/e2e/torch_step.py's
interpreter, so both sides compute the same network). `infer` times the
forward pass under no_grad; `train` a training step: forward, mean softmax
cross-entropy, backward, and SGD with momentum 0.9 and weight decay 0.0005
(the paper's update). Dropout is the identity on this side. On cuda (PyTorch
eager, cuDNN) each step ends with a device synchronisation, so the times are
the GPU's.
Prints one JSON object with the same fields as `anetrun bench --json`.
"""
import json
import os
import sys

import numpy as np
import onnx
import onnx.numpy_helper
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "tests", "e2e"))
from torch_step import run  # noqa: E402
from timing import time_runs  # noqa: E402


def main() -> int:
    path, batch, threads, warmup, iterations, mode = sys.argv[1], *map(int, sys.argv[2:6]), \
        sys.argv[6]
    device = torch.device(sys.argv[7] if len(sys.argv) > 7 else "cpu")
    torch.set_num_threads(threads)
    model = onnx.load(path)
    train = mode == "train"
    params = {t.name: torch.tensor(onnx.numpy_helper.to_array(t).astype(np.float32),
                                   requires_grad=train, device=device)
              for t in model.graph.initializer}
    inp = model.graph.input[0]
    dims = [d.dim_value for d in inp.type.tensor_type.shape.dim]
    dims[0] = batch
    x = torch.tensor(np.random.default_rng(0).uniform(-1, 1, size=dims).astype(np.float32),
                     device=device)
    outputs = [o.name for o in model.graph.output]
    logits_name = next(n.input[0] for n in model.graph.node
                       if n.op_type == "Softmax" and n.output[0] in outputs)
    labels = torch.zeros(batch, dtype=torch.long, device=device)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    optimizer = torch.optim.SGD(list(params.values()), lr=1e-6, momentum=0.9,
                                weight_decay=0.0005) if train else None

    def step():
        if not train:
            with torch.no_grad():
                run(model, {inp.name: x}, params)
            sync()
            return
        optimizer.zero_grad()
        env = run(model, {inp.name: x}, params)
        F.cross_entropy(env[logits_name], labels).backward()
        optimizer.step()
        sync()

    print(json.dumps(time_runs(step, batch, warmup, iterations)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
