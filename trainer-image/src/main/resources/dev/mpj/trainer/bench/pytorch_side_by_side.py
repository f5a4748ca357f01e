"""Eager PyTorch side of `mpj-trainer bench pytorch`: trains the same MLP or transformer shape as
the trainer, with the same optimizer (Adam, lr 1e-3, betas 0.9/0.999, eps 1e-8) and the same loss
(mean softmax cross-entropy), on the CPU, and prints one line for the trainer to parse:

  RESULT <base RSS bytes> <peak RSS bytes> <samples per second> <code bytes>

or, with --gemm M,K,N, one FP32 matrix multiply [M, K] x [K, N] timed alone (the BLAS under the
framework), as RESULT 0 0 <GFLOP/s>.

base: resident memory once torch is loaded, before the model exists. peak: the high-water mark of
the measured steps, reset (Linux /proc/self/clear_refs) after one warm-up step that makes the lazy
state (Adam's moments, allocator first use). samples/s over the measured steps. code: what the run
added to resident memory mapped from files after its base (torch's code, paged in as its operations
first run), which the trainer's side reports too.

Run with Debian's python3-torch: /usr/bin/python3 pytorch_side_by_side.py --model mlp ...
"""

import argparse
import math
import sys
import time

try:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
except ImportError:
    print("NO_TORCH PyTorch is not installed for " + sys.executable, flush=True)
    sys.exit(3)


def rss_bytes(field):
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    return -1


def reset_peak():
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


class Layer(nn.Module):
    """The trainer's TransformerLayer: pre-norm, causal attention as softmax(q k^T / sqrt(d) + mask) v,
    then a 4H GELU MLP."""

    def __init__(self, hidden, heads):
        super().__init__()
        self.heads = heads
        self.attention_norm = nn.LayerNorm(hidden)
        self.query = nn.Linear(hidden, hidden)
        self.key = nn.Linear(hidden, hidden)
        self.value = nn.Linear(hidden, hidden)
        self.output = nn.Linear(hidden, hidden)
        self.mlp_norm = nn.LayerNorm(hidden)
        self.expand = nn.Linear(hidden, 4 * hidden)
        self.project = nn.Linear(4 * hidden, hidden)

    def attention(self, x, mask):
        b, s, h = x.shape
        d = h // self.heads
        q = self.query(x).view(b, s, self.heads, d).transpose(1, 2)
        k = self.key(x).view(b, s, self.heads, d).transpose(1, 2)
        v = self.value(x).view(b, s, self.heads, d).transpose(1, 2)
        weights = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(d) + mask, dim=-1)
        context = (weights @ v).transpose(1, 2).reshape(b, s, h)
        return self.output(context)

    def forward(self, x, mask):
        x = x + self.attention(self.attention_norm(x), mask)
        return x + self.project(F.gelu(self.expand(self.mlp_norm(x))))


class Transformer(nn.Module):
    def __init__(self, layers, hidden, heads, vocab, length):
        super().__init__()
        self.tokens = nn.Embedding(vocab, hidden)
        self.positions = nn.Parameter(torch.randn(length, hidden) * 0.02)
        self.layers = nn.ModuleList(Layer(hidden, heads) for _ in range(layers))
        self.norm = nn.LayerNorm(hidden)
        self.head = nn.Linear(hidden, vocab)
        self.register_buffer(
            "mask", torch.triu(torch.full((length, length), float("-inf")), diagonal=1)
        )

    def forward(self, ids):
        s = ids.shape[1]
        x = self.tokens(ids) + self.positions[:s]
        for layer in self.layers:
            x = layer(x, self.mask[:s, :s])
        return self.head(self.norm(x))


def mlp(features, hidden, classes):
    layers = []
    previous = features
    for h in hidden:
        layers += [nn.Linear(previous, h), nn.ReLU()]
        previous = h
    layers.append(nn.Linear(previous, classes))
    return nn.Sequential(*layers)


def gemm(m, k, n):
    """Times [m, k] x [k, n] in FP32: the median of 5 rounds of enough products for ~0.2 s."""
    torch.manual_seed(0)
    x = torch.randn(m, k)
    w = torch.randn(k, n)
    out = torch.empty(m, n)
    for _ in range(3):
        torch.mm(x, w, out=out)
    repeats = 1
    while True:
        started = time.perf_counter()
        for _ in range(repeats):
            torch.mm(x, w, out=out)
        if time.perf_counter() - started > 0.2:
            break
        repeats *= 2
    rounds = []
    for _ in range(5):
        started = time.perf_counter()
        for _ in range(repeats):
            torch.mm(x, w, out=out)
        rounds.append(time.perf_counter() - started)
    seconds = sorted(rounds)[2] / repeats
    print(f"RESULT 0 0 {2.0 * m * k * n / seconds / 1e9:.3f}", flush=True)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model", choices=["mlp", "transformer"])
    p.add_argument("--gemm", help="M,K,N: time one FP32 matrix multiply instead of training")
    p.add_argument("--features", type=int, default=256)
    p.add_argument("--hidden", default="256,256,256,256,256,256,256,256")
    p.add_argument("--classes", type=int, default=10)
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--hidden-size", type=int, default=128)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--vocab", type=int, default=256)
    p.add_argument("--length", type=int, default=128)
    p.add_argument("--micro-batch", type=int)
    p.add_argument("--warm-up", type=int, default=1)
    p.add_argument("--steps", type=int, default=2)
    p.add_argument("--threads", type=int, default=1)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    if a.gemm:
        gemm(*[int(d) for d in a.gemm.split(",")])
        return
    if a.model is None or a.micro_batch is None:
        p.error("--model and --micro-batch are required without --gemm")

    torch.manual_seed(0)
    torch.zeros(1).add_(1)
    base = rss_bytes("VmRSS")
    base_code = rss_bytes("RssFile")

    samples = max(4 * a.micro_batch, 1024)
    if a.model == "mlp":
        model = mlp(a.features, [int(h) for h in a.hidden.split(",")], a.classes)
        inputs = torch.randn(samples, a.features)
        targets = torch.randint(0, a.classes, (samples,))
    else:
        model = Transformer(a.layers, a.hidden_size, a.heads, a.vocab, a.length)
        inputs = torch.randint(0, a.vocab, (samples, a.length))
        targets = torch.randint(0, a.vocab, (samples, a.length))
    # The data set lives on the Java heap in the trainer, outside its measured native memory.
    base += inputs.numel() * inputs.element_size() + targets.numel() * targets.element_size()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-8)
    order = torch.randperm(samples)
    position = [0]

    def step():
        start = position[0]
        if start + a.micro_batch > samples:
            start = 0
        rows = order[start : start + a.micro_batch]
        position[0] = start + a.micro_batch
        x = inputs[rows]
        y = targets[rows]
        optimizer.zero_grad(set_to_none=True)
        out = model(x)
        loss = F.cross_entropy(out.reshape(-1, out.shape[-1]), y.reshape(-1))
        loss.backward()
        optimizer.step()
        return loss.item()

    for _ in range(a.warm_up):
        step()
    reset = reset_peak()
    started = time.perf_counter()
    for _ in range(a.steps):
        step()
    seconds = time.perf_counter() - started
    peak = rss_bytes("VmHWM") if reset else -1
    code = rss_bytes("RssFile") - base_code if base_code >= 0 else 0
    print(f"RESULT {base} {peak} {a.steps * a.micro_batch / seconds:.3f} {code}", flush=True)


if __name__ == "__main__":
    main()
