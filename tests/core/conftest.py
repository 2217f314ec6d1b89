"""Core tests: one torch thread (tiny tensors; threads only add contention on shared cores)."""

from __future__ import annotations

import torch

torch.set_num_threads(1)
