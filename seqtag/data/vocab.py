"""Vocabularies: word and tag indices built from training data."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

PAD = "<pad>"
UNK = "<unk>"
_DIGITS = re.compile(r"\d")


def normalize(word: str, lowercase: bool = False, digits_to_zero: bool = False) -> str:
    """The key a word is indexed under: optionally lowercased, digits replaced by 0."""
    if lowercase:
        word = word.lower()
    if digits_to_zero:
        word = _DIGITS.sub("0", word)
    return word


@dataclass
class Vocab:
    """An index of strings; ``specials`` come first (padding at 0, unknown at 1 for words)."""

    itos: list[str]
    unk: str | None = None
    stoi: dict[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.stoi = {s: i for i, s in enumerate(self.itos)}
        if len(self.stoi) != len(self.itos):
            raise ValueError("vocabulary entries must be unique")
        if self.unk is not None and self.unk not in self.stoi:
            raise ValueError(f"unknown token {self.unk!r} is not in the vocabulary")

    def __len__(self) -> int:
        return len(self.itos)

    def __contains__(self, item: str) -> bool:
        return item in self.stoi

    def index(self, item: str) -> int:
        found = self.stoi.get(item)
        if found is not None:
            return found
        if self.unk is None:
            raise KeyError(f"{item!r} is not in the vocabulary")
        return self.stoi[self.unk]

    def indices(self, items: Iterable[str]) -> list[int]:
        return [self.index(item) for item in items]

    @classmethod
    def for_words(
        cls, counts: Counter[str], min_freq: int = 1, extra: Iterable[str] = ()
    ) -> Vocab:
        """Words seen ``min_freq`` times in training (most frequent first), then ``extra``."""
        itos = [PAD, UNK]
        seen = set(itos)
        for word, count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
            if count >= min_freq and word not in seen:
                itos.append(word)
                seen.add(word)
        for word in sorted(set(extra) - seen):
            itos.append(word)
        return cls(itos, unk=UNK)

    @classmethod
    def for_tags(cls, tags: Iterable[str]) -> Vocab:
        """Tags in a stable order: ``O`` first, then by type and prefix."""
        unique = set(tags)
        ordered = sorted(unique - {"O"}, key=lambda t: (t[2:], t[:2]) if t[1:2] == "-" else (t, ""))
        return cls((["O"] if "O" in unique else []) + ordered)
