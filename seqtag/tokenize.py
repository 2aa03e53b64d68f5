"""Text to tokens.

Sentences: Penn Treebank rules (NLTK's tokenizer), the conventions of CoNLL-style
corpora (``U.S.``, ``did n't``, ``3.5 %``), with character offsets.

Documents (reviews, sentences to classify): a regular-expression tokenizer rather
than a full Treebank one: IMDB's 50,000 reviews (11 million tokens) tokenise in
seconds, and sentiment models need words, contractions and punctuation apart, not
Treebank's finer rules.

Control and zero-width characters count as spaces, so text pasted from other
tools does not produce tokens the model never saw. Character offsets refer to
the text as given.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from typing import NamedTuple

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028\u2029\u2060\ufeff]")
_FALLBACK = re.compile(r"\w+(?:[-'.,]\w+)*|[^\w\s]")


class Token(NamedTuple):
    text: str
    start: int  # character offsets in the input, end exclusive
    end: int


def clean(text: str) -> str:
    """``text`` with control and zero-width characters replaced by spaces (same length)."""
    return _CONTROL.sub(" ", text)


@cache
def _treebank() -> object:
    # imported when first needed: NLTK costs ~35 MB, and training never tokenises raw text
    from nltk.tokenize import TreebankWordTokenizer

    return TreebankWordTokenizer()


def tokenize(text: str) -> list[Token]:
    """Tokens of one sentence or document, with their character offsets."""
    cleaned = clean(text)
    try:
        spans = list(_treebank().span_tokenize(cleaned))
    except ValueError:
        # NLTK cannot align a few rewritten quote forms with the input; a plain
        # word/punctuation split keeps the offsets exact there
        spans = [m.span() for m in _FALLBACK.finditer(cleaned)]
    return [Token(cleaned[a:b], a, b) for a, b in spans if cleaned[a:b].strip()]


_HTML_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)
_TAG = re.compile(r"</?[a-zA-Z][^<>]{0,50}>")
# Contractions split as in the Penn Treebank (did n't, it 's), which is how GloVe saw them.
_TOKEN = re.compile(r"[^\W\d_]+(?=n't\b)|n't\b|'[^\W\d_]+|[^\W\d_]+|\d+(?:[.,]\d+)*|[^\w\s]")


def document_tokens(
    text: str, lowercase: bool = True, strip_html: bool = True, max_length: int | None = None,
    keep: Callable[[str], bool] | None = None,
) -> list[str]:
    """Words, contraction parts (``do``, ``n't``), numbers and punctuation marks.

    ``strip_html`` removes ``<br />`` line breaks and other tags, as IMDB reviews
    carry them; ``keep`` drops the tokens it rejects, before ``max_length``
    keeps the first tokens of a long document.
    """
    if strip_html:
        text = _TAG.sub(" ", _HTML_BREAK.sub(" ", text))
    if lowercase:
        text = text.lower()
    tokens = _TOKEN.findall(text)
    if keep is not None:
        tokens = [t for t in tokens if keep(t)]
    return tokens[:max_length] if max_length else tokens
