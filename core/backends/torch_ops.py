"""The torch backend's tables: activations as modules and as functions, dtypes, optimizer state names."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..engine.nn import LeakyReLU

LEAKY_SLOPE = LeakyReLU.slope  # the NumPy engine's, one copy

ACTIVATION_MODULES = {
    "sigmoid": nn.Sigmoid, "hard_sigmoid": nn.Hardsigmoid, "relu": nn.ReLU,
    "leaky_relu": lambda: nn.LeakyReLU(LEAKY_SLOPE), "tanh": nn.Tanh, "identity": nn.Identity,
}
ACTIVATION_FUNCTIONS = {
    "sigmoid": torch.sigmoid, "hard_sigmoid": F.hardsigmoid, "relu": F.relu,
    "leaky_relu": lambda z: F.leaky_relu(z, LEAKY_SLOPE), "tanh": torch.tanh, "identity": lambda z: z,
}
TORCH_DTYPES = {"float32": torch.float32, "float64": torch.float64}
STATE_NAMES = {"exp_avg": "m", "exp_avg_sq": "v", "momentum_buffer": "momentum_buffer"}
