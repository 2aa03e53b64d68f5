"""A language-modelling objective beside the tagging loss (Rei, 2017, "Semi-supervised
multitask learning for sequence labeling").

The forward direction of the encoder, having read words 1..t, also predicts word t+1;
the backward direction, having read words n..t, predicts word t-1. Both are trained
with the tags' loss, weighted, and cost nothing at inference (the tagger never calls
this module outside training). What the encoder learns of every word's context this
way, including words that carry no entity tag, is what GloVe 50-d alone lacks.

Targets are word ids: the vocabulary is most frequent first, so ids below
``vocab_size`` are the frequent words; rarer ones share the ``<unk>`` class and the
padding id 0 stands for the sentence boundary (before the first, after the last word).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from seqtag.registry import register
from seqtag.vocab import UNK


@register("part", "next_word")
class NextWordObjective(nn.Module):
    """Predicts each next (forward states) and previous (backward states) word."""

    def __init__(
        self, input_size: int, words: list[str], bidirectional: bool, weight: float = 0.1,
        vocab_size: int = 7500, hidden_size: int = 50,
    ) -> None:
        super().__init__()
        if weight <= 0:
            raise ValueError(f"the language-model objective's weight must be > 0, got {weight}")
        self.weight = weight
        self.vocab_size = min(vocab_size, len(words))
        self.unk_index = words.index(UNK)
        self.bidirectional = bidirectional
        width = input_size // 2 if bidirectional else input_size

        def predictor() -> nn.Module:
            return nn.Sequential(nn.Linear(width, hidden_size), nn.Tanh(),
                                 nn.Linear(hidden_size, self.vocab_size))

        self.next_word = predictor()
        self.previous_word = predictor() if bidirectional else None

    def forward(self, features: torch.Tensor, words: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """The weighted loss, summed over each sentence's words and averaged over sentences
        (the CRF head's normalisation, and Rei's); ``features`` (B, T, input_size) with the
        forward direction first, as a concatenating encoder gives them."""
        targets = words.masked_fill(words >= self.vocab_size, self.unk_index)
        following = F.pad(targets[:, 1:], (0, 1))  # 0 (the boundary) after the last word
        weights = mask.to(features.dtype)
        forward_states, backward_states = (features.chunk(2, dim=-1) if self.bidirectional
                                           else (features, None))
        loss = self._loss(self.next_word, forward_states, following, weights)
        if self.previous_word is not None:
            preceding = F.pad(targets[:, :-1], (1, 0))  # 0 (the boundary) before the first
            loss = loss + self._loss(self.previous_word, backward_states, preceding, weights)
        return self.weight * loss / features.size(0)

    @staticmethod
    def _loss(predictor: nn.Module, states: torch.Tensor, targets: torch.Tensor,
              weights: torch.Tensor) -> torch.Tensor:
        # summed over every position and masked by multiplication, not by indexing:
        # a boolean index would make the host wait for the device each step
        logits = predictor(states)
        losses = F.cross_entropy(logits.flatten(0, 1), targets.flatten(), reduction="none")
        return (losses * weights.flatten()).sum()
