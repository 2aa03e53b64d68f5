"""Sequence classification heads: pool the encoder's states into one vector per document."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from seqtag.models.dropout import Dropout
from seqtag.registry import register
from seqtag.vocab import Vocabularies

POOLINGS = ("last", "mean", "max", "attention", "flatten")


@register("part", "pool")
class SequencePoolingHead(nn.Module):
    """One label per sequence from the encoder's states.

    ``pooling``: ``last`` (final states of both directions), ``mean`` / ``max``
    over real tokens, ``attention`` (a learned query scores each token), or
    ``flatten``: the states of all ``max_length`` positions laid end to end, as a
    Keras ``Flatten`` over a fixed-length sequence does (positions past the batch's
    width are zeros). Several joined by ``+`` (``attention+max``) are concatenated,
    as ULMFiT's concat pooling: each sees what the others average away.
    """

    def __init__(
        self, input_size: int, vocabs: Vocabularies, pooling: str = "max", dropout: float = 0.0,
        max_length: int | None = None,
    ) -> None:
        super().__init__()
        self.poolings = pooling.split("+")
        if any(p not in POOLINGS for p in self.poolings) or len(set(self.poolings)) < len(self.poolings):
            raise ValueError(f"pooling must be one of {POOLINGS}, or several joined by '+', got {pooling!r}")
        if "flatten" in self.poolings and not max_length:
            raise ValueError("pooling=flatten needs max_length (the documents' fixed length)")
        self.max_length = max_length
        self.dropout = Dropout(dropout)
        if "attention" in self.poolings:
            self.attention = nn.Sequential(nn.Linear(input_size, input_size), nn.Tanh(),
                                           nn.Linear(input_size, 1, bias=False))
        width = sum(input_size * max_length if p == "flatten" else input_size for p in self.poolings)
        self.proj = nn.Linear(width, len(vocabs.tags))

    def pool(self, features: torch.Tensor, mask: torch.Tensor, final: torch.Tensor) -> torch.Tensor:
        pooled = [self._pool(p, features, mask, final) for p in self.poolings]
        return pooled[0] if len(pooled) == 1 else torch.cat(pooled, -1)

    def _pool(self, pooling: str, features: torch.Tensor, mask: torch.Tensor, final: torch.Tensor,
              ) -> torch.Tensor:
        if pooling == "last":
            return final
        weights = mask.unsqueeze(-1).to(features.dtype)
        if pooling == "mean":
            return (features * weights).sum(1) / weights.sum(1).clamp(min=1)
        if pooling == "max":
            return features.masked_fill(~mask.unsqueeze(-1), float("-inf")).amax(1)
        if pooling == "attention":
            scores = self.attention(features).squeeze(-1).masked_fill(~mask, float("-inf"))
            return (features * scores.softmax(-1).unsqueeze(-1)).sum(1)
        # flatten: a packed encoder leaves zeros after a document's end; one that
        # read the padding (pack=False) leaves its states there, as Keras does
        padded = F.pad(features[:, : self.max_length], (0, 0, 0, self.max_length - min(features.size(1),
                                                                                     self.max_length)))
        return padded.flatten(1)

    def forward(self, features: torch.Tensor, mask: torch.Tensor, final: torch.Tensor) -> torch.Tensor:
        """Logits (B, labels)."""
        return self.proj(self.dropout(self.pool(features, mask, final)))

    def loss(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(logits, labels)
