"""Store tests train tiny experiments: one torch thread is fastest for them on a busy machine."""

from __future__ import annotations

from typing import Iterator

import pytest


@pytest.fixture(autouse=True)
def one_torch_thread() -> Iterator[None]:
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
