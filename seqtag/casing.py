"""A word's shape class, an input feature that survives lowercased embedding lookup."""

from __future__ import annotations

CASES = (
    "<pad>", "numeric", "mainly_numeric", "all_lower", "all_upper", "initial_upper",
    "contains_digit", "other",
)
_INDEX = {name: i for i, name in enumerate(CASES)}


def casing(word: str) -> int:
    """Index in :data:`CASES` of ``word``'s shape (Reimers & Gurevych, 2017)."""
    digits = sum(ch.isdigit() for ch in word)
    if word.isdigit():
        kind = "numeric"
    elif digits / max(len(word), 1) > 0.5:
        kind = "mainly_numeric"
    elif word.islower():
        kind = "all_lower"
    elif word.isupper():
        kind = "all_upper"
    elif word[:1].isupper():
        kind = "initial_upper"
    elif digits:
        kind = "contains_digit"
    else:
        kind = "other"
    return _INDEX[kind]
