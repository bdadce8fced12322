"""Claim 1's models in Python: the twins of csrc/techniques/models.cpp (same layers, same
operations in the same order), so that torch.jit.script and torch.export see what a user
who wrote the model in PyTorch would hand them. Weights are not initialised here: they are
copied from the TorchScript file the C++ runner saved (copy_weights)."""

import math
from collections import OrderedDict

import torch
from torch import nn

CLASSES = 10
SIZE_KEYS = {
    "mlp": ["batch", "features", "hidden", "depth"],
    "cnn": ["batch", "channels", "image"],
    "attention": ["batch", "seq", "dim", "heads", "layers"],
}


class Mlp(nn.Sequential):
    """Linear -> ReLU, `depth` times, then Linear; children fc0, relu0, ..., fc{depth}."""

    def __init__(self, features, hidden, depth):
        layers = OrderedDict()
        width = features
        for i in range(depth):
            layers[f"fc{i}"] = nn.Linear(width, hidden)
            layers[f"relu{i}"] = nn.ReLU()
            width = hidden
        layers[f"fc{depth}"] = nn.Linear(width, CLASSES)
        super().__init__(layers)


class Cnn(nn.Module):
    def __init__(self, channels):
        super().__init__()
        c = channels
        for i, (cin, cout) in enumerate([(3, c), (c, 2 * c), (2 * c, 2 * c), (2 * c, 2 * c)]):
            setattr(self, f"conv{i}", nn.Conv2d(cin, cout, 3, padding=1, bias=False))
            setattr(self, f"bn{i}", nn.BatchNorm2d(cout))
        self.fc = nn.Linear(2 * c, CLASSES)

    def forward(self, x):
        x = torch.max_pool2d(torch.relu(self.bn0(self.conv0(x))), 2, 2)
        x = torch.max_pool2d(torch.relu(self.bn1(self.conv1(x))), 2, 2)
        y = self.bn3(self.conv3(torch.relu(self.bn2(self.conv2(x)))))
        x = torch.relu(x + y)
        return self.fc(torch.flatten(nn.functional.adaptive_avg_pool2d(x, [1, 1]), 1))


class EncoderBlock(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.head_dim = dim // heads
        self.scale = 1.0 / math.sqrt(self.head_dim)
        self.q, self.k, self.v, self.o = (nn.Linear(dim, dim) for _ in range(4))
        self.ff1 = nn.Linear(dim, 4 * dim)
        self.ff2 = nn.Linear(4 * dim, dim)
        self.norm1 = nn.LayerNorm(dim, eps=1e-5)
        self.norm2 = nn.LayerNorm(dim, eps=1e-5)

    def forward(self, x):
        b, t, d = x.size(0), x.size(1), x.size(2)
        q = self.q(x).view(b, t, self.heads, self.head_dim).transpose(1, 2)
        k = self.k(x).view(b, t, self.heads, self.head_dim).transpose(1, 2)
        v = self.v(x).view(b, t, self.heads, self.head_dim).transpose(1, 2)
        scores = torch.matmul(q, k.transpose(-2, -1)) * self.scale
        a = torch.matmul(torch.softmax(scores, -1), v).transpose(1, 2).reshape(b, t, d)
        x = self.norm1(x + self.o(a))
        f = self.ff1(x)
        inner = (f + f * f * f * 0.044715) * 0.7978845608028654  # GELU, tanh form
        return self.norm2(x + self.ff2(f * 0.5 * (torch.tanh(inner) + 1.0)))


class Attention(nn.Module):
    """Encoder blocks in a ModuleList `blocks` (the C++ names them block0, block1, ...)."""

    def __init__(self, dim, heads, layers):
        super().__init__()
        self.blocks = nn.ModuleList(EncoderBlock(dim, heads) for _ in range(layers))
        self.head = nn.Linear(dim, CLASSES)

    def forward(self, x):
        for block in self.blocks:
            x = block(x)
        return self.head(x.mean(1))


def make_model(model, sizes):
    """The Python twin of one model, in eval mode, weights uninitialised."""
    if model == "mlp":
        m = Mlp(sizes["features"], sizes["hidden"], sizes["depth"])
    elif model == "cnn":
        m = Cnn(sizes["channels"])
    elif model == "attention":
        if sizes["dim"] % sizes["heads"]:
            raise ValueError("attention needs dim divisible by heads")
        m = Attention(sizes["dim"], sizes["heads"], sizes["layers"])
    else:
        raise ValueError(f"unknown model {model!r} (known: {', '.join(SIZE_KEYS)})")
    return m.eval()


def input_shape(model, sizes, batch):
    if model == "mlp":
        return (batch, sizes["features"])
    if model == "cnn":
        return (batch, 3, sizes["image"], sizes["image"])
    return (batch, sizes["seq"], sizes["dim"])


def cpp_name(python_name):
    """The C++ module's name of a Python state_dict key: blocks.0.q.weight -> block0.q.weight."""
    if python_name.startswith("blocks."):
        index, rest = python_name[len("blocks.") :].split(".", 1)
        return f"block{index}.{rest}"
    return python_name


def copy_weights(module, scripted):
    """Copy every parameter and buffer of the C++-saved TorchScript module into `module`;
    both must hold exactly the same names (after cpp_name) and shapes."""
    source = scripted.state_dict()
    target = module.state_dict()
    mapped = {name: cpp_name(name) for name in target}
    missing = sorted(set(mapped.values()) - set(source))
    extra = sorted(set(source) - set(mapped.values()))
    if missing or extra:
        raise ValueError(f"weights do not match: missing in the TorchScript file {missing}, extra {extra}")
    module.load_state_dict({name: source[mapped[name]] for name in target}, strict=True)
    return module
