"""Readers for CoNLL column files (e.g. CoNLL-2003) and CoNLL-U treebanks.

Both yield one ``{"tokens": [...], "tags": [...], "doc": n}`` dict per sentence,
where ``doc`` counts the documents of the file (``-DOCSTART-`` lines in column
files, ``# newdoc`` comments in CoNLL-U; 0 throughout a file without them), and raise
:class:`CorpusFormatError` with the file and line of anything they cannot read,
so nothing is dropped silently.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

from seqtag.errors import CorpusFormatError

Sentence = dict[str, list[str] | int]


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    """Yield (1-based line number, line without newline), decoding UTF-8 strictly.

    A byte-order mark at the start of the file (as some Windows editors write) is dropped.
    """
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                text = raw.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError as err:
                raise CorpusFormatError(
                    path, number, f"not valid UTF-8 ({err.reason} at byte {err.start}); "
                    "re-encode the file as UTF-8"
                ) from None
            yield number, text.rstrip("\r\n")


def read_columns(
    path: str | Path,
    token_column: int = 0,
    tag_column: int = -1,
    num_columns: int | None = None,
    separator: str | None = None,
    docstart: str = "-DOCSTART-",
    comment_prefix: str | None = None,
    tag_check: Callable[[str], str | None] | None = None,
) -> Iterator[Sentence]:
    """Read a CoNLL column file: one token per line, blank lines between sentences.

    ``num_columns`` fixes the expected column count; when ``None`` the first
    token line decides and every later line must agree. ``separator=None``
    splits on any whitespace (CoNLL-2003); use ``"\\t"`` for tab-only files.
    ``tag_check`` returns a problem description for a tag that is not allowed.
    """
    path = Path(path)
    tokens: list[str] = []
    tags: list[str] = []
    expected = num_columns
    doc, doc_has_sentences = 0, False
    for number, line in _lines(path):
        if comment_prefix and line.startswith(comment_prefix):
            continue
        if not line.strip():
            if tokens:
                yield {"tokens": tokens, "tags": tags, "doc": doc}
                doc_has_sentences = True
                tokens, tags = [], []
            continue
        columns = line.split(separator)
        if docstart and columns[0] == docstart:
            if tokens:
                yield {"tokens": tokens, "tags": tags, "doc": doc}
                doc_has_sentences = True
                tokens, tags = [], []
            if doc_has_sentences:
                doc, doc_has_sentences = doc + 1, False
            continue
        if expected is None:
            expected = len(columns)
            needed = max(token_column, tag_column) + 1 if tag_column >= 0 else 2
            if expected < needed:
                raise CorpusFormatError(
                    path, number, f"found {expected} column(s) but token column {token_column} "
                    f"and tag column {tag_column} need at least {needed}"
                )
        if len(columns) != expected:
            raise CorpusFormatError(
                path, number, f"expected {expected} columns, found {len(columns)}: {line!r}"
            )
        tag = columns[tag_column]
        if tag_check is not None and (problem := tag_check(tag)):
            raise CorpusFormatError(path, number, problem)
        tokens.append(columns[token_column])
        tags.append(tag)
    if tokens:
        yield {"tokens": tokens, "tags": tags, "doc": doc}


CONLLU_FIELDS = {"upos": 3, "xpos": 4}
_NEWDOC = re.compile(r"#\s*newdoc\b")


def read_conllu(path: str | Path, tag_field: str = "upos") -> Iterator[Sentence]:
    """Read a CoNLL-U file, tagging syntactic words with UPOS or XPOS.

    Multiword-token ranges (``1-2``) and empty nodes (``8.1``) are not words of
    the basic tree, so they are skipped; every other line must have 10 columns.
    """
    if tag_field not in CONLLU_FIELDS:
        raise ValueError(f"tag_field must be one of {sorted(CONLLU_FIELDS)}, got {tag_field!r}")
    column = CONLLU_FIELDS[tag_field]
    path = Path(path)
    tokens: list[str] = []
    tags: list[str] = []
    doc, doc_has_sentences = 0, False
    for number, line in _lines(path):
        if not line.strip():
            if tokens:
                yield {"tokens": tokens, "tags": tags, "doc": doc}
                doc_has_sentences = True
                tokens, tags = [], []
            continue
        if line.startswith("#"):
            if _NEWDOC.match(line) and doc_has_sentences:
                doc, doc_has_sentences = doc + 1, False
            continue
        columns = line.split("\t")
        if len(columns) != 10:
            raise CorpusFormatError(
                path, number, f"CoNLL-U lines have 10 tab-separated columns, found {len(columns)}"
            )
        word_id = columns[0]
        if "-" in word_id or "." in word_id:
            continue
        if not word_id.isdigit():
            raise CorpusFormatError(path, number, f"word ID {word_id!r} is not an integer")
        if columns[column] in ("", "_"):
            raise CorpusFormatError(path, number, f"missing {tag_field.upper()} tag")
        tokens.append(columns[1])
        tags.append(columns[column])
    if tokens:
        yield {"tokens": tokens, "tags": tags, "doc": doc}
