"""A linear-chain CRF: batched forward algorithm and Viterbi decoding.

Both loop over time steps only; every step is one tensor operation over the
whole batch, and padded steps leave the running scores untouched. No
maintained PyTorch library does this with scheme constraints and
Lightning-friendly masking, hence the hand-written version; it is tested
against brute-force enumeration in ``tests/test_crf.py``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from seqtag.schemes import split_tag

FORBIDDEN = -10000.0
TINY = 1e-30


def allowed_transitions(tags: Sequence[str], scheme: str) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Masks of the transitions a scheme allows: ``(start, between [from, to], end)``.

    IOB2: ``I-X`` only after ``B-X`` or ``I-X``. IOBES: inside a chunk only
    ``I-X``/``E-X`` may follow, outside only ``O``/``B-``/``S-``; sentences end
    outside a chunk. Other schemes allow everything.
    """
    k = len(tags)
    start = torch.ones(k, dtype=torch.bool)
    between = torch.ones(k, k, dtype=torch.bool)
    end = torch.ones(k, dtype=torch.bool)
    if scheme not in ("iob2", "iobes"):
        return start, between, end
    parts = [split_tag(t) for t in tags]
    for j, (to_prefix, to_kind) in enumerate(parts):
        continues = to_prefix in ("I", "E")
        if continues:
            start[j] = False
        for i, (from_prefix, from_kind) in enumerate(parts):
            inside = from_prefix in ("B", "I")  # a chunk is open and may go on
            if scheme == "iob2":
                ok = not continues or (inside and from_kind == to_kind)
            else:
                ok = (continues and inside and from_kind == to_kind) or (not continues and not inside)
            between[i, j] = ok
        if scheme == "iobes" and to_prefix in ("B", "I"):
            end[j] = False
    return start, between, end


class LinearChainCRF(nn.Module):
    """Transition scores ``[from, to]`` plus start and end scores, over ``num_tags`` tags."""

    def __init__(self, num_tags: int, constraints: tuple[torch.Tensor, ...] | None = None) -> None:
        super().__init__()
        self.transitions = nn.Parameter(torch.zeros(num_tags, num_tags))
        self.start = nn.Parameter(torch.zeros(num_tags))
        self.end = nn.Parameter(torch.zeros(num_tags))
        if constraints is None:
            constraints = (torch.ones(num_tags, dtype=torch.bool),
                           torch.ones(num_tags, num_tags, dtype=torch.bool),
                           torch.ones(num_tags, dtype=torch.bool))
        for name, allowed in zip(("start_allowed", "transitions_allowed", "end_allowed"), constraints,
                                 strict=True):
            self.register_buffer(name, allowed, persistent=False)

    def _scores(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        return (self.start.masked_fill(~self.start_allowed, FORBIDDEN),
                self.transitions.masked_fill(~self.transitions_allowed, FORBIDDEN),
                self.end.masked_fill(~self.end_allowed, FORBIDDEN))

    def log_partition(self, emissions: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """log Z for each sentence (B,), from emissions (B, T, K) and mask (B, T).

        Each step sums over the previous tag in probability space, as one (B, K) x (K, K)
        matrix product with both factors shifted by their maxima, instead of a
        ``logsumexp`` over a (B, K, K) tensor: a third of the time, forward and backward.
        A tag no allowed path reaches (its sum underflows to 0) is held at ``TINY``, a
        share of the total no float32 sum can see, and whose gradient is 0 (not NaN).
        At least float32: under bf16 autocast the product would lose the sums' precision.
        """
        with torch.autocast(emissions.device.type, enabled=False):
            if emissions.dtype in (torch.bfloat16, torch.float16):
                emissions = emissions.float()
            start, transitions, end = self._scores()
            shift = transitions.max(dim=0).values  # per target tag: each column's largest entry is 1
            weights = (transitions - shift).exp()
            alpha = start + emissions[:, 0]
            for t in range(1, emissions.size(1)):
                top = alpha.max(dim=1, keepdim=True).values
                summed = ((alpha - top).exp() @ weights).clamp_min(TINY)
                step = summed.log() + top + shift + emissions[:, t]
                alpha = torch.where(mask[:, t].unsqueeze(1), step, alpha)
            return torch.logsumexp(alpha + end, dim=1)

    def score(self, emissions: torch.Tensor, tags: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Unnormalised score of the given tag sequences (B,)."""
        start, transitions, end = self._scores()
        emitted = emissions.gather(2, tags.unsqueeze(2)).squeeze(2)
        moved = transitions[tags[:, :-1], tags[:, 1:]]
        steps = mask[:, 1:].to(emissions.dtype)
        total = start[tags[:, 0]] + emitted[:, 0] + ((emitted[:, 1:] + moved) * steps).sum(1)
        last = tags.gather(1, (mask.sum(1, keepdim=True) - 1).clamp(min=0)).squeeze(1)
        return total + end[last]

    def nll(self, emissions: torch.Tensor, tags: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Negative log-likelihood per sentence (B,)."""
        return self.log_partition(emissions, mask) - self.score(emissions, tags, mask)

    def decode(self, emissions: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Viterbi: the best tag sequence of each sentence (B, T); padding gets tag 0.
        In float32 at least: bf16 sums would round close scores alike.

        The forward pass runs where the emissions are; the backtrace, a chain of
        lookups with nothing to parallelise, runs in NumPy on the host (one copy of the
        backpointers), where each step costs a microsecond rather than a kernel launch.
        """
        if emissions.dtype in (torch.bfloat16, torch.float16):
            emissions = emissions.float()
        start, transitions, end = self._scores()
        steps = emissions.unbind(1)
        real = mask.unsqueeze(2).unbind(1)
        score = start + steps[0]
        backpointers = []
        for t in range(1, len(steps)):
            best, previous = (score.unsqueeze(2) + transitions).max(dim=1)
            backpointers.append(previous)
            score = torch.where(real[t], best + steps[t], score)
        last = (score + end).argmax(dim=1)
        batch, width = mask.shape
        lengths = mask.sum(1).cpu().numpy()
        pointers = torch.stack(backpointers).cpu().numpy() if backpointers else None
        current = last.cpu().numpy()
        rows = np.arange(batch)
        path = np.zeros((batch, width), dtype=np.int64)
        for t in range(width - 1, -1, -1):
            # a sentence's best final tag stands until its last real token; from there on
            # each real step follows its backpointer
            inside = t < lengths
            path[:, t] = np.where(inside, current, 0)
            if t > 0:
                current = np.where(inside, pointers[t - 1, rows, current], current)
        return torch.from_numpy(path).to(emissions.device)
