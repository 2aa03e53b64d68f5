"""Output heads: turn encoder states into a loss and predicted tags."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from seqtag.models.crf import LinearChainCRF, allowed_transitions
from seqtag.models.dropout import Dropout
from seqtag.registry import register
from seqtag.vocab import Vocabularies


@register("part", "softmax")
class SoftmaxHead(nn.Module):
    """Independent softmax per token; loss is cross-entropy averaged over real tokens."""

    def __init__(self, input_size: int, vocabs: Vocabularies, dropout: float = 0.0) -> None:
        super().__init__()
        self.dropout = Dropout(dropout)
        self.proj = nn.Linear(input_size, len(vocabs.tags))

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


@register("part", "crf")
class CRFHead(nn.Module):
    """Emission scores from the encoder plus a linear-chain CRF over whole sentences.

    ``constrained`` forbids transitions the tag scheme does not allow (e.g.
    ``O -> I-PER`` in IOB2), in training and decoding alike.
    """

    def __init__(
        self, input_size: int, vocabs: Vocabularies, dropout: float = 0.0, constrained: bool = True
    ) -> None:
        super().__init__()
        self.dropout = Dropout(dropout)
        self.proj = nn.Linear(input_size, len(vocabs.tags))
        scheme = vocabs.scheme if constrained else "none"
        self.crf = LinearChainCRF(len(vocabs.tags), allowed_transitions(vocabs.tags.itos, scheme))

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.proj(self.dropout(features))

    def loss(self, features: torch.Tensor, tags: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Negative log-likelihood, averaged over sentences."""
        return self.crf.nll(self(features), tags.masked_fill(~mask, 0), mask).mean()

    def decode(self, features: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return self.crf.decode(self(features), mask)
