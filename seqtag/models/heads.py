"""Output heads: turn encoder states into a loss and predicted tags."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class SoftmaxHead(nn.Module):
    """Independent softmax per token; loss is cross-entropy averaged over real tokens."""

    def __init__(self, input_size: int, num_tags: int, dropout: float = 0.0) -> None:
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.proj = nn.Linear(input_size, num_tags)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.proj(self.dropout(features))

    def loss(self, features: torch.Tensor, tags: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        # ignore_index rather than boolean indexing: indexing by a mask needs a
        # device-to-host sync to size its result.
        logits = self(features)
        return F.cross_entropy(logits.transpose(1, 2), tags.masked_fill(~mask, -100),
                               ignore_index=-100)

    def decode(self, features: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Best tag per token; padded positions are 0 and must be read with ``mask``."""
        return self(features).argmax(-1).masked_fill(~mask, 0)
