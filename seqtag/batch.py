"""Padding examples (dicts of numpy arrays) into batches of tensors, for training and prediction alike."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch


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


class Collator:
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
