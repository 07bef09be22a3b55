"""PyTorch eager (cuDNN on a GPU) running the paper's AlexNet, written
directly with torch.nn.functional: tools/gpu_check's reference column. It
needs only PyTorch (the GPU machine has no onnx package), so the weights are
random: a timing reference, the same shapes and work as anet's `alexnet`.

usage: torch_alexnet.py train|tencrop BATCH WARMUP ITERATIONS [cuda|cpu] [resident|host]
train: forward, mean softmax cross-entropy, backward, SGD with momentum 0.9
and weight decay 0.0005 (dropout 0.5 in fc6 and fc7, as in training).
tencrop: inference over BATCH images x 10 crops, the softmax averaged over
each image's crops. Prints one JSON object with the fields of
`anetrun bench --json` (images/s counts images, not crops).
resident (the default): the inputs stay on the device. host: each run
copies them from pinned host memory first (non_blocking), as a training
loop with pin_memory does and as anet's runs do.
"""
import json
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(__file__))
from timing import time_runs  # noqa: E402


def main() -> int:
    mode, batch, warmup, iterations = sys.argv[1], *map(int, sys.argv[2:5])
    device = torch.device(sys.argv[5] if len(sys.argv) > 5 else "cuda")
    from_host = len(sys.argv) > 6 and sys.argv[6] == "host"
    torch.backends.cudnn.benchmark = True
    gen = torch.Generator(device="cpu").manual_seed(0)

    def param(*shape, std=0.01, fill=None):
        t = torch.full(shape, fill) if fill is not None else torch.randn(*shape, generator=gen) * std
        return t.to(device).requires_grad_(mode == "train")

    # The paper's layers: (out, in per group, kernel, stride, pad, groups, bias).
    convs = [(96, 3, 11, 4, 0, 1, 0.), (256, 48, 5, 1, 2, 2, 1.), (384, 256, 3, 1, 1, 1, 0.),
             (384, 192, 3, 1, 1, 2, 1.), (256, 192, 3, 1, 1, 2, 1.)]
    w = [(param(o, i, k, k), param(o, fill=b), s, p, g) for o, i, k, s, p, g, b in convs]
    fcs = [(param(4096, 9216), param(4096, fill=1.)), (param(4096, 4096), param(4096, fill=1.)),
           (param(1000, 4096), param(1000, fill=0.))]
    params = [t for c in w for t in c[:2]] + [t for f in fcs for t in f]

    def forward(x, train):
        for n, (weight, bias, stride, pad, groups) in enumerate(w):
            x = F.relu(F.conv2d(x, weight, bias, stride=stride, padding=pad, groups=groups))
            if n < 2:
                x = F.local_response_norm(x, 5, alpha=1e-4 * 5, beta=0.75, k=2.)
            if n in (0, 1, 4):
                x = F.max_pool2d(x, 3, 2)
        x = torch.flatten(x, 1)
        for n, (weight, bias) in enumerate(fcs):
            x = F.linear(x, weight, bias)
            if n < 2:
                x = F.dropout(F.relu(x), 0.5, training=train)
        return x

    images = batch * (10 if mode == "tencrop" else 1)
    x_host = torch.randn(images, 3, 227, 227, generator=gen)
    labels_host = torch.randint(0, 1000, (batch,), generator=gen)
    if from_host and device.type == "cuda":
        x_host, labels_host = x_host.pin_memory(), labels_host.pin_memory()
    x, labels = x_host.to(device), labels_host.to(device)
    optimizer = torch.optim.SGD(params, lr=0.01, momentum=0.9, weight_decay=0.0005)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)

    def step():
        nonlocal x, labels
        if from_host:
            x = x_host.to(device, non_blocking=True)
            labels = labels_host.to(device, non_blocking=True)
        if mode == "train":
            optimizer.zero_grad()
            F.cross_entropy(forward(x, True), labels).backward()
            optimizer.step()
        else:
            with torch.no_grad():
                F.softmax(forward(x, False), 1).view(batch, 10, 1000).mean(1)
        sync()

    print(json.dumps(time_runs(step, batch, warmup, iterations)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
