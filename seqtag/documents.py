"""Document context: consecutive sentences of one document joined into one example.

A recurrent encoder that reads a sentence together with its neighbours sees how
the document uses a name elsewhere (a headline in capitals, a sports table row),
which a single sentence often does not show. Sentence starts are kept, so
scores stay per sentence.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def sentence_starts(length: int) -> np.ndarray:
    """The ``starts`` column of a single sentence: 1 at its first token."""
    starts = np.zeros(length, dtype=np.int64)
    starts[:1] = 1
    return starts


def concat_examples(examples: Sequence[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    if len(examples) == 1:
        return examples[0]
    out = {}
    for name, first in examples[0].items():
        arrays = [ex[name] for ex in examples]
        if first.ndim == 2:  # (tokens, characters): pad to the widest word first
            width = max(a.shape[1] for a in arrays)
            arrays = [np.pad(a, ((0, 0), (0, width - a.shape[1]))) for a in arrays]
        out[name] = np.concatenate(arrays)
    return out


def group_sentences(lengths: Sequence[int], docs: Sequence[int], max_tokens: int) -> list[list[int]]:
    """Indices of consecutive sentences of the same document, greedily packed into
    groups of at most ``max_tokens`` tokens (a longer sentence stays alone)."""
    if len(lengths) != len(docs):
        raise ValueError(f"{len(lengths)} sentences but {len(docs)} document ids")
    if max_tokens < 1:
        raise ValueError("max_tokens must be at least 1")
    groups: list[list[int]] = []
    group: list[int] = []
    group_doc, group_tokens = None, 0
    for index, (size, doc) in enumerate(zip(lengths, docs, strict=True)):
        if group and (doc != group_doc or group_tokens + size > max_tokens):
            groups.append(group)
            group, group_tokens = [], 0
        group.append(index)
        group_doc = doc
        group_tokens += size
    if group:
        groups.append(group)
    return groups


def join_sentences(
    examples: Sequence[dict[str, np.ndarray]], docs: Sequence[int], max_tokens: int
) -> list[dict[str, np.ndarray]]:
    """The examples of :func:`group_sentences`' groups, each joined into one. Every
    example needs a ``starts`` column; the joined one has a 1 at each sentence's
    first token."""
    groups = group_sentences([len(ex["starts"]) for ex in examples], docs, max_tokens)
    return [concat_examples([examples[i] for i in group]) for group in groups]
