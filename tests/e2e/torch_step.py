"""One training step of an ONNX classifier in PyTorch: the oracle for anet's
train_step. Interprets the ONNX graph with torch.nn.functional (the ops of
the AlexNet family), computes the mean softmax cross-entropy against the
labels, backpropagates with autograd and applies the AlexNet paper's update
from zero momentum:  v = -wd*lr*w - lr*g;  w' = w + v.

usage: torch_step.py MODEL.onnx INPUT.npy LABELS.npy LR WEIGHT_DECAY OUT_DIR
Writes OUT_DIR/<initializer>.npy (updated weights) and OUT_DIR/loss.npy.
Dropout is the identity (the comparison runs with dropout off).
"""
import os
import sys

import numpy as np
import onnx
import onnx.numpy_helper
import torch
import torch.nn.functional as F


def attrs_of(node):
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def pads_of(a):
    return list(a.get("pads", [0, 0, 0, 0]))


def padded(x, pads, value=0.0):
    # ONNX pads: [h_begin, w_begin, h_end, w_end]; F.pad: (w_begin, w_end, h_begin, h_end)
    return F.pad(x, (pads[1], pads[3], pads[0], pads[2]), value=value)


def run(model, feeds, params):
    env = dict(feeds)
    env.update(params)
    for node in model.graph.node:
        a = attrs_of(node)
        x = [env[i] for i in node.input if i]
        op = node.op_type
        if op == "Conv":
            y = F.conv2d(padded(x[0], pads_of(a)), x[1], x[2] if len(x) > 2 else None,
                         stride=a.get("strides", [1, 1]), dilation=a.get("dilations", [1, 1]),
                         groups=a.get("group", 1))
        elif op == "Relu":
            y = F.relu(x[0])
        elif op == "LRN":
            # ONNX: x / (bias + alpha/size * sum of squares over the window)^beta
            y = F.local_response_norm(x[0], a["size"], alpha=a.get("alpha", 1e-4),
                                      beta=a.get("beta", 0.75), k=a.get("bias", 1.0))
        elif op == "MaxPool":
            y = F.max_pool2d(padded(x[0], pads_of(a), float("-inf")), a["kernel_shape"],
                             stride=a.get("strides", [1, 1]), ceil_mode=bool(a.get("ceil_mode", 0)))
        elif op == "Flatten":
            y = torch.flatten(x[0], a.get("axis", 1))
        elif op == "Reshape":
            y = torch.reshape(x[0], [int(d) for d in x[1].tolist()])
        elif op == "Gemm":
            A = x[0].t() if a.get("transA", 0) else x[0]
            B = x[1].t() if a.get("transB", 0) else x[1]
            y = a.get("alpha", 1.0) * (A @ B)
            if len(x) > 2:
                y = y + a.get("beta", 1.0) * x[2]
        elif op in ("Dropout", "Identity"):
            y = x[0]
        elif op == "Softmax":
            y = F.softmax(x[0], dim=a.get("axis", -1))
        else:
            raise SystemExit(f"torch_step.py: op {op} is not supported")
        env[node.output[0]] = y
    return env


def main():
    model_path, input_path, labels_path, lr, wd, out_dir = sys.argv[1:7]
    lr, wd = float(lr), float(wd)
    model = onnx.load(model_path)
    params = {t.name: torch.tensor(onnx.numpy_helper.to_array(t).astype(np.float32),
                                   requires_grad=True)
              for t in model.graph.initializer}
    x = torch.tensor(np.load(input_path))
    labels = torch.tensor(np.load(labels_path)).long()
    feeds = {model.graph.input[0].name: x}
    env = run(model, feeds, params)
    # The classifier's logits: the input of the Softmax producing an output.
    logits = None
    for node in model.graph.node:
        if node.op_type == "Softmax" and node.output[0] in [o.name for o in model.graph.output]:
            logits = env[node.input[0]]
    loss = F.cross_entropy(logits, labels)
    loss.backward()
    os.makedirs(out_dir, exist_ok=True)
    with torch.no_grad():
        for name, w in params.items():
            if w.grad is None:
                continue
            v = -wd * lr * w - lr * w.grad
            np.save(os.path.join(out_dir, name + ".npy"), (w + v).numpy())
    np.save(os.path.join(out_dir, "loss.npy"), np.array(loss.item(), dtype=np.float32))


if __name__ == "__main__":
    main()
