"""A validation split by sentence for treebank phrase data (SST-2).

SST-2's training rows are every sentiment-bearing phrase of the treebank's parse
trees, the full sentences among them. A validation set of random rows is then
made of phrases whose own sub-phrases and parent sentences are in training: it
scores 0.93 while GLUE's dev sentences score 0.85, and cannot choose a
checkpoint. Holding out whole sentences, and dropping from training every row
that is a span of one of them, makes validation look like dev.
"""

from __future__ import annotations

import random
from collections.abc import Sequence


def _spans(tokens: Sequence[str]) -> set[str]:
    """Every contiguous token span of ``tokens`` except the whole, joined by spaces."""
    n = len(tokens)
    return {" ".join(tokens[i:j]) for i in range(n) for j in range(i + 1, n + 1) if j - i < n}


def _key(text: str) -> str:
    return " ".join(text.split())


def sentence_rows(texts: Sequence[str]) -> list[int]:
    """Indices of the rows that are no span of another row (the trees' roots), first copies only."""
    rows = {_key(t) for t in texts}
    inside: set[str] = set()
    for text in rows:
        inside.update(span for span in _spans(text.split()) if span in rows)
    seen: set[str] = set()
    roots = []
    for index, text in enumerate(texts):
        key = _key(text)
        if key not in inside and key not in seen:
            seen.add(key)
            roots.append(index)
    return roots


def split_by_sentence(texts: Sequence[str], fraction: float, seed: int) -> tuple[list[int], list[int]]:
    """``(train, validation)`` row indices: ``fraction`` of the sentences are held out.

    Validation holds whole sentences; training keeps every row that is neither one
    of them nor a span of one, so no phrase of a validation sentence is trained on.
    Raises ``ValueError`` when the rows hold too few sentences to hold any out.
    """
    roots = sentence_rows(texts)
    count = round(fraction * len(roots))
    if count == 0 or count == len(roots):
        raise ValueError(f"{len(roots)} sentences among {len(texts)} rows: val_fraction={fraction} "
                         "holds out none or all of them")
    held = sorted(random.Random(seed).sample(roots, count))
    dropped: set[str] = set()
    for index in held:
        tokens = texts[index].split()
        dropped.add(" ".join(tokens))
        dropped.update(_spans(tokens))
    train = [i for i, text in enumerate(texts) if _key(text) not in dropped]
    return train, held
