"""Vocabularies: word, character and tag indices built from training data."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from seqtag.casing import casing

PAD = "<pad>"
UNK = "<unk>"
_DIGITS = re.compile(r"\d")
MEMO_SIZE = 200_000
TokenFeatures = tuple[int, int, tuple[int, ...]]


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


@dataclass
class Vocabularies:
    """Every index a model needs: its words, its tags or labels (in ``scheme``, the
    tag scheme the model was trained on; ``none`` for plain tags and labels), its
    characters, and how words are keyed (``lowercase``, ``digits_to_zero``)."""

    words: Vocab
    tags: Vocab
    scheme: str = "none"
    lowercase: bool = False
    digits_to_zero: bool = False
    chars: Vocab | None = None
    max_word_length: int = 20
    # tokens seen so far: inputs repeat the same words over and over
    _features: dict[str, TokenFeatures] = field(default_factory=dict, init=False, repr=False, compare=False)

    def features(self, token: str) -> TokenFeatures:
        """A token's word index, shape class (:func:`seqtag.casing.casing`) and
        character indices, computed once per distinct token (up to :data:`MEMO_SIZE`)."""
        found = self._features.get(token)
        if found is None:
            if len(self._features) >= MEMO_SIZE:
                self._features.clear()
            found = self._features[token] = (self.words.index(self.word_key(token)), casing(token),
                                             tuple(self.char_indices(token)))
        return found

    def word_key(self, word: str) -> str:
        return normalize(word, self.lowercase, self.digits_to_zero)

    def word_indices(self, tokens: Iterable[str]) -> list[int]:
        return [self.words.index(self.word_key(t)) for t in tokens]

    def char_indices(self, token: str) -> list[int]:
        """The first ``max_word_length`` characters' indices (none without a character vocabulary)."""
        return self.chars.indices(token[: self.max_word_length]) if self.chars is not None else []

    def to_dict(self) -> dict:
        """Plain lists and scalars only, so a saved model loads without unpickling classes."""
        return {
            "words": list(self.words.itos), "unk": self.words.unk, "tags": list(self.tags.itos),
            "chars": list(self.chars.itos) if self.chars is not None else None,
            "scheme": self.scheme, "lowercase": self.lowercase,
            "digits_to_zero": self.digits_to_zero, "max_word_length": self.max_word_length,
        }

    @classmethod
    def from_dict(cls, data: dict) -> Vocabularies:
        chars = data.get("chars")
        return cls(
            Vocab(list(data["words"]), unk=data["unk"]), Vocab(list(data["tags"])), data["scheme"],
            bool(data["lowercase"]), bool(data["digits_to_zero"]),
            Vocab(list(chars), unk=UNK) if chars is not None else None, int(data["max_word_length"]),
        )
