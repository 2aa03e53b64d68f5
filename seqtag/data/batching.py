"""Length-bucketed batches (padding them into tensors is :mod:`seqtag.batch`)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import torch
import torch.distributed as dist
from torch.utils.data import Sampler

SLACK = 1.2


def length_batches(lengths: Sequence[int], batch_size: int, slack: float = SLACK) -> list[np.ndarray]:
    """Indices of ``lengths`` in batches of at most ``batch_size``, longest first; a batch
    also ends before a sentence ``slack`` times shorter than its first, so that padding
    costs little even for large batches: in 256s, CoNLL-2003's test set would otherwise
    pad 1.55 cells per token (its longest sentence, 124 tokens, beside ones of 33).
    """
    order = np.argsort([-n for n in lengths], kind="stable")
    batches, start = [], 0
    for k in range(1, len(order) + 1):
        if k == len(order) or k - start == batch_size or lengths[order[start]] > slack * lengths[order[k]]:
            batches.append(order[start:k])
            start = k
    return batches


class BucketBatchSampler(Sampler[list[int]]):
    """Batches of sentences of similar length, so little compute is spent on padding.

    Training: shuffle, cut into pools of ``batch_size * pool_batches``, sort each
    pool by length, batch, then shuffle the batches; the order depends only on
    ``seed`` and the epoch (``set_epoch``, called by Lightning), so resumed runs
    see the same batches. Under ``torch.distributed`` each rank takes every
    world-size-th batch (in training, an equal number of them), so Lightning
    must not add its own sampler (``use_distributed_sampler: false``).

    Evaluation scores every sentence exactly once, on some rank, in batches of
    similar lengths (:func:`length_batches`). When there are
    fewer batches than ranks (a small validation split, a large
    ``eval_batch_size``), the sentences are cut into one smaller batch per rank
    instead, so no rank is left without a batch: Lightning refuses a loader that
    is empty on one rank only (and, when allowed, skips that rank's evaluation
    epoch, so the others hang in the metrics' cross-rank gather). A split with
    fewer sentences than ranks is an error.
    """

    def __init__(
        self, lengths: Sequence[int], batch_size: int, shuffle: bool = True, seed: int = 0,
        pool_batches: int = 50,
    ) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self.lengths = np.asarray(lengths)
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.seed = seed
        self.pool_batches = pool_batches
        self.epoch = 0
        self._eval_count: int | None = None

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    @property
    def sampler(self) -> BucketBatchSampler:
        # Lightning calls set_epoch on ``dataloader.sampler`` and on
        # ``dataloader.batch_sampler.sampler``, never on the batch sampler itself;
        # without this every epoch would see the batches of epoch 0.
        return self

    def _replicas(self) -> tuple[int, int]:
        if dist.is_available() and dist.is_initialized():
            return dist.get_rank(), dist.get_world_size()
        return 0, 1

    def _num_eval_batches(self, world: int) -> int:
        """At least one batch a rank: no fewer batches than ranks."""
        n = len(self.lengths)
        if 0 < n < world:
            # A rank without a batch skips the whole evaluation loop, epoch-end hooks included,
            # while the others wait in the metrics' gather: fail the same way on every rank instead.
            raise ValueError(
                f"{n} evaluation sentence(s) cannot be shared by {world} DDP processes: each needs at "
                "least one (use fewer devices, or more sentences in the validation/test split)"
            )
        if self._eval_count is None:
            self._eval_count = len(length_batches(self.lengths, self.batch_size))
        return max(self._eval_count, min(n, world))

    def _all_batches(self, world: int = 1) -> list[np.ndarray]:
        n = len(self.lengths)
        if not self.shuffle:
            batches = length_batches(self.lengths, self.batch_size)
            if len(batches) < self._num_eval_batches(world):
                # fewer batches than ranks: one (smaller) batch per rank, sizes differing by at most one
                return np.array_split(np.argsort(self.lengths, kind="stable"), min(n, world))
            return batches
        rng = np.random.default_rng((self.seed, self.epoch))
        order = rng.permutation(n)
        pool = self.batch_size * self.pool_batches
        batches = []
        for start in range(0, n, pool):
            chunk = order[start : start + pool]
            chunk = chunk[np.argsort(self.lengths[chunk], kind="stable")]
            batches.extend(chunk[i : i + self.batch_size] for i in range(0, len(chunk), self.batch_size))
        return [batches[i] for i in rng.permutation(len(batches))]

    def __iter__(self) -> Iterator[list[int]]:
        rank, world = self._replicas()
        batches = self._all_batches(world)
        if world > 1:
            # training: equal step counts on every rank, or DDP waits forever on
            # a gradient sync; evaluation: every sentence scored exactly once.
            end = len(batches) // world * world if self.shuffle else len(batches)
            batches = batches[rank:end:world]
        for batch in batches:
            yield batch.tolist()

    def __len__(self) -> int:
        rank, world = self._replicas()
        if self.shuffle:
            # pools hold a whole number of batches, so shuffling never adds a partial batch
            return -(-len(self.lengths) // self.batch_size) // world
        return len(range(rank, self._num_eval_batches(world), world))


def batch_size(batch: dict[str, torch.Tensor]) -> int:
    return int(batch["lengths"].numel())


def num_tokens(batch: dict[str, torch.Tensor]) -> int:
    return int(batch["lengths"].sum())
