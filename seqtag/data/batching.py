"""Length-bucketed batches and the collate step that pads them into tensors."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import torch
import torch.distributed as dist
from torch.utils.data import DataLoader, Sampler


class BucketBatchSampler(Sampler[list[int]]):
    """Batches of sentences of similar length, so little compute is spent on padding.

    Training: shuffle, cut into pools of ``batch_size * pool_batches``, sort each
    pool by length, batch, then shuffle the batches; the order depends only on
    ``seed`` and the epoch (``set_epoch``, called by Lightning), so resumed runs
    see the same batches. Under ``torch.distributed`` each rank takes every
    world-size-th batch (in training, an equal number of them), so Lightning
    must not add its own sampler (``use_distributed_sampler: false``).
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

    def _all_batches(self) -> list[np.ndarray]:
        n = len(self.lengths)
        if not self.shuffle:
            order = np.argsort(self.lengths, kind="stable")
            return [order[i : i + self.batch_size] for i in range(0, n, self.batch_size)]
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
        batches = self._all_batches()
        rank, world = self._replicas()
        if world > 1:
            # training: equal step counts on every rank, or DDP waits forever on
            # a gradient sync; evaluation: every sentence scored exactly once.
            end = len(batches) // world * world if self.shuffle else len(batches)
            batches = batches[rank:end:world]
        for batch in batches:
            yield batch.tolist()

    def __len__(self) -> int:
        # pools hold a whole number of batches, so shuffling never adds a partial batch
        n = -(-len(self.lengths) // self.batch_size)
        rank, world = self._replicas()
        if self.shuffle:
            return n // world
        return len(range(rank, n, world))


def pad(sequences: Sequence[np.ndarray], value: int = 0) -> torch.Tensor:
    lengths = [len(s) for s in sequences]
    out = np.full((len(sequences), max(lengths)), value, dtype=np.int64)
    for row, seq in enumerate(sequences):
        out[row, : len(seq)] = seq
    return torch.from_numpy(out)


def pad_chars(words: Sequence[Sequence[int]]) -> np.ndarray:
    """One sentence's character indices as a (words, longest word) array, 0-padded."""
    out = np.zeros((len(words), max(1, max(len(w) for w in words))), dtype=np.int64)
    for row, word in enumerate(words):
        out[row, : len(word)] = word
    return out


def pad_2d(arrays: Sequence[np.ndarray]) -> torch.Tensor:
    """(B, T, W) from per-sentence (T_i, W_i) arrays."""
    out = np.zeros((len(arrays), max(a.shape[0] for a in arrays), max(a.shape[1] for a in arrays)),
                   dtype=np.int64)
    for row, array in enumerate(arrays):
        out[row, : array.shape[0], : array.shape[1]] = array
    return torch.from_numpy(out)


class TaggingCollator:
    """Pad a list of examples into a batch dict.

    Keys: one per column, (B, T) or, for 2-D columns such as ``chars``, (B, T, W), or
    (B,) for scalar columns such as a document's ``label``;
    ``mask`` (B, T, True on real tokens) and ``lengths`` (B,), which stays on the
    CPU as ``pack_padded_sequence`` wants.
    """

    def __init__(self, columns: Sequence[str] = ("words", "tags"), width: int | None = None) -> None:
        self.columns = tuple(columns)
        self.width = width  # pad every batch to this many positions (None: to its longest example)

    def __call__(self, examples: list[dict[str, np.ndarray]]) -> dict[str, torch.Tensor]:
        padders = {0: lambda values: torch.as_tensor(np.asarray(values, dtype=np.int64)), 1: pad, 2: pad_2d}
        batch = {
            name: padders[np.ndim(examples[0][name])]([ex[name] for ex in examples])
            for name in self.columns
        }
        lengths = torch.tensor([len(ex[self.columns[0]]) for ex in examples], dtype=torch.int64)
        if self.width is not None:
            for name in self.columns:
                tensor = batch[name]
                if tensor.dim() >= 2 and tensor.size(1) < self.width:
                    grow = [0, 0] * (tensor.dim() - 2) + [0, self.width - tensor.size(1)]
                    batch[name] = torch.nn.functional.pad(tensor, grow)
        batch["lengths"] = lengths
        batch["mask"] = torch.arange(batch[self.columns[0]].size(1))[None, :] < lengths[:, None]
        return batch


def batch_size(batch: dict[str, torch.Tensor]) -> int:
    return int(batch["lengths"].numel())


def num_tokens(batch: dict[str, torch.Tensor]) -> int:
    return int(batch["lengths"].sum())


class SplitLoaders:
    """The three Lightning loader hooks of a data module that has ``_loader(split, train)``."""

    def _loader(self, split: str, train: bool) -> DataLoader:
        raise NotImplementedError

    def train_dataloader(self) -> DataLoader:
        return self._loader("train", train=True)

    def val_dataloader(self) -> DataLoader:
        return self._loader("validation", train=False)

    def test_dataloader(self) -> DataLoader:
        return self._loader("test", train=False)
