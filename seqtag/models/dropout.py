"""Dropout whose mask costs a fraction of ``nn.Dropout``'s on CPU.

``nn.Dropout`` draws its mask with ``bernoulli_``, one random number per element
(18 % of a training step of the CoNLL preset went to its three masks, ``benchmarks/
RESULTS.md``, issue 15). On CPU the mask here is cut from 64-bit random integers
instead, three 16-bit draws from each, about seven times faster than ``bernoulli_``:
each element is kept when its draw is at least ``p`` of the way through the 16-bit
range, so ``p`` is honoured to 1/65536, and kept elements are scaled by the exact
inverse of the share kept. Elsewhere (CUDA) the native dropout kernel is already fast.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

_LEVELS = 1 << 16


def keep_mask(shape: torch.Size, p: float, device: torch.device) -> tuple[torch.Tensor, float]:
    """A boolean mask of ``shape``, each element True with probability 1 - ``p`` (to
    1/65536), and the factor that keeps the expectation: 1 / (share kept)."""
    count = shape.numel()
    dropped = round(p * _LEVELS)
    # random_() on int64 draws 63 bits: the three low 16-bit lanes are uniform, the top one is not
    words = torch.empty((count + 2) // 3, dtype=torch.int64, device=device).random_()
    draws = words.view(torch.int16).view(-1, 4)[:, :3].reshape(-1)[:count].view(shape)
    return draws >= dropped - _LEVELS // 2, _LEVELS / (_LEVELS - dropped)


def dropout(x: torch.Tensor, p: float, training: bool = True) -> torch.Tensor:
    """``F.dropout(x, p, training)``, with a cheaper mask on CPU."""
    if not training or p == 0.0:
        return x
    if p == 1.0:
        return x * 0.0
    if x.device.type != "cpu":
        return F.dropout(x, p, training)
    keep, scale = keep_mask(x.shape, p, x.device)
    return x * keep * scale


class Dropout(nn.Dropout):
    """``nn.Dropout`` (same arguments, no weights: saved models are unchanged), with the
    cheaper mask of :func:`dropout`."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return dropout(x, self.p, self.training)
