"""Raw text to tokens for prediction: Penn Treebank rules (NLTK's tokenizer), the
conventions of CoNLL-style corpora (``U.S.``, ``did n't``, ``3.5 %``).

Control and zero-width characters count as spaces, so text pasted from other
tools does not produce tokens the model never saw. Character offsets refer to
the text as given.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from nltk.tokenize import TreebankWordTokenizer

_TREEBANK = TreebankWordTokenizer()
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028\u2029\u2060\ufeff]")
_FALLBACK = re.compile(r"\w+(?:[-'.,]\w+)*|[^\w\s]")


class Token(NamedTuple):
    text: str
    start: int  # character offsets in the input, end exclusive
    end: int


def clean(text: str) -> str:
    """``text`` with control and zero-width characters replaced by spaces (same length)."""
    return _CONTROL.sub(" ", text)


def tokenize(text: str) -> list[Token]:
    """Tokens of one sentence or document, with their character offsets."""
    cleaned = clean(text)
    try:
        spans = list(_TREEBANK.span_tokenize(cleaned))
    except ValueError:
        # NLTK cannot align a few rewritten quote forms with the input; a plain
        # word/punctuation split keeps the offsets exact there
        spans = [m.span() for m in _FALLBACK.finditer(cleaned)]
    return [Token(cleaned[a:b], a, b) for a, b in spans if cleaned[a:b].strip()]
