"""Documents (reviews, sentences) to tokens for classification.

A regular-expression tokenizer rather than a full Treebank one: IMDB's 50,000
reviews (11 million tokens) tokenise in seconds, and sentiment models need
words, contractions and punctuation apart, not Treebank's finer rules.
"""

from __future__ import annotations

import re
from collections.abc import Callable

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
