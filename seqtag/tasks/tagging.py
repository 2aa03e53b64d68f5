"""Tagging tasks: a tag per token, scored per entity span (NER, chunking) or per token (POS)."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np
from seqeval.metrics.sequence_labeling import get_entities

from seqtag.batch import encode_tokens
from seqtag.documents import concat_examples, group_sentences, join_sentences, sentence_starts
from seqtag.errors import ConfigError, CorpusFormatError
from seqtag.registry import register
from seqtag.schemes import ENTITY_SCHEMES, check_scheme, convert, detect_scheme, split_tag
from seqtag.tasks.base import Example, KnownWords, Task
from seqtag.tasks.results import Entity, Sentence
from seqtag.tasks.scoring import accuracy_scores, entity_scores
from seqtag.tokenize import Token, tokenize
from seqtag.vocab import Vocab, Vocabularies, normalize

log = logging.getLogger(__name__)


class TaggingTask(Task):
    """A tag per token. Words are keyed ``lowercase`` / ``digits_to_zero``; the first
    ``max_word_length`` characters of each word feed character features.
    ``context_tokens > 0`` joins consecutive sentences of a document into examples of
    up to that many tokens (:mod:`seqtag.documents`), in training and prediction
    alike; scores stay per sentence.
    """

    target = "tags"
    unit = "tokens"
    reader = "columns"
    input_columns = ("words", "case", "chars", "starts")
    scheme = "none"

    def __init__(self, lowercase: bool = False, digits_to_zero: bool = False, max_word_length: int = 20,
                 context_tokens: int = 0, metric: str | None = None) -> None:
        super().__init__(metric)
        if context_tokens < 0:
            raise ConfigError("context_tokens must be 0 (single sentences) or a positive token count")
        self.lowercase = lowercase
        self.digits_to_zero = digits_to_zero
        self.max_word_length = max_word_length
        self.context_tokens = context_tokens

    def options(self) -> dict[str, Any]:
        return {"lowercase": self.lowercase, "digits_to_zero": self.digits_to_zero,
                "max_word_length": self.max_word_length, "context_tokens": self.context_tokens,
                "metric": self.metric}

    # -- reading ----------------------------------------------------------------------
    def prepare(self, raw: Any, corpus: Any, known_words: KnownWords | None = None) -> Any:
        return raw

    def vocabularies(self, raw: Any, min_freq: int = 1, known_words: KnownWords | None = None,
                     ) -> Vocabularies:
        def key(word: str) -> str:
            return normalize(word, self.lowercase, self.digits_to_zero)

        words, counts = self._words(raw, min_freq, known_words, key)
        tags = Vocab.for_tags(t for split in raw.values() for seq in split["tags"] for t in seq)
        # characters as written: character features read the tokens, not the word keys
        chars = Vocab.for_words(Counter(ch for tokens in raw["train"]["tokens"] for t in tokens for ch in t))
        log.info("vocabulary: %d words (%d from dev/test with vectors), %d characters, %d tags",
                 len(words), len(words) - 2 - sum(c >= min_freq for c in counts.values()), len(chars),
                 len(tags))
        return Vocabularies(words, tags, self.scheme, self.lowercase, self.digits_to_zero, chars,
                            self.max_word_length)

    def examples(self, vocabs: Vocabularies, split: Any) -> list[Example]:
        examples = [{**self.encode(vocabs, tokens),
                     "tags": np.asarray(vocabs.tags.indices(tags), dtype=np.int64)}
                    for tokens, tags in zip(split["tokens"], split["tags"], strict=True)]
        if self.context_tokens:
            examples = join_sentences(examples, split["doc"], self.context_tokens)
        return examples

    def encode(self, vocabs: Vocabularies, tokens: Sequence[str]) -> Example:
        return {**encode_tokens(vocabs, tokens), "starts": sentence_starts(len(tokens))}

    # -- prediction ------------------------------------------------------------------------
    def read_inputs(self, inputs: Sequence[str] | Sequence[Sequence[str]], vocabs: Vocabularies,
                    ) -> list[tuple[list[str], str | None, list[Token] | None]]:
        """``(tokens, text, token spans)``: texts are tokenised with Penn Treebank rules."""
        if all(isinstance(x, str) for x in inputs):
            return [([t.text for t in spans], text, spans) for text in inputs for spans in [tokenize(text)]]
        if all(isinstance(x, (list, tuple)) and all(isinstance(t, str) for t in x) for x in inputs):
            return [(list(x), None, None) for x in inputs]
        raise TypeError("predict() takes a string, a list of strings, or a list of token lists")

    def batchable(self, vocabs: Vocabularies, items: list, docs: Sequence[int] | None,
                  ) -> tuple[list[Example], list[list[int]]]:
        kept = [i for i, (tokens, _, _) in enumerate(items) if tokens]
        if self.context_tokens and docs is not None:
            groups = [[kept[j] for j in group] for group in
                      group_sentences([len(items[i][0]) for i in kept], [docs[i] for i in kept],
                                      self.context_tokens)]
        else:
            groups = [[i] for i in kept]
        encoded = {i: self.encode(vocabs, items[i][0]) for i in kept}
        return [concat_examples([encoded[i] for i in group]) for group in groups], groups

    def results(self, vocabs: Vocabularies, items: list, groups: list[list[int]], rows: list[list],
                ) -> list[Sentence]:
        tags: list[list[str]] = [[] for _ in items]
        for row, group in zip(rows, groups, strict=True):
            offset = 0
            for i in group:
                n = len(items[i][0])
                tags[i] = self.label_strings(vocabs, row[offset : offset + n])
                offset += n
        return [Sentence(tokens, sentence_tags, self.entities(tokens, sentence_tags, spans), text)
                for (tokens, text, spans), sentence_tags in zip(items, tags, strict=True)]

    def entities(self, tokens: list[str], tags: list[str], spans: list[Token] | None) -> list[Entity]:
        return []

    def gold_inputs(self, rows: list[dict]) -> tuple[list, list[int]]:
        return [list(row["tokens"]) for row in rows], [int(row.get("doc", 0)) for row in rows]

    def score(self, gold: list[list[str]], pred: list[list[str]]) -> tuple[dict[str, float], str]:
        return accuracy_scores(gold, pred, self.unit)

    def prediction_lines(self, result: Sentence, gold: list[str], pred: list[str]) -> list[str]:
        """``token gold predicted`` lines and a blank line: the input of CoNLL's conlleval."""
        return [f"{t} {g} {p}" for t, g, p in zip(result.tokens, gold, pred, strict=True)] + [""]


@register("task", "token")
class TokenTagging(TaggingTask):
    """Plain tags scored by token accuracy (POS tags, chunk tags taken as labels)."""

    metrics = ("acc",)


@register("task", "entity")
class EntityTagging(TaggingTask):
    """Entity spans in IOB tags, scored with seqeval (micro P/R/F1, as ``conlleval``).

    ``train_scheme`` is the scheme the model learns (``iob2`` or ``iobes``): the
    corpus' tags (IOB1, IOB2 or IOBES; the corpus' ``scheme``, or detected) are
    converted to it. Predictions and scores are always IOB2.
    """

    metrics = ("f1", "precision", "recall")

    def __init__(self, train_scheme: str = "iob2", lowercase: bool = False, digits_to_zero: bool = False,
                 max_word_length: int = 20, context_tokens: int = 0, metric: str | None = None) -> None:
        super().__init__(lowercase, digits_to_zero, max_word_length, context_tokens, metric)
        if check_scheme(train_scheme) not in ("iob2", "iobes"):
            raise ConfigError("train_scheme must be 'iob2' or 'iobes' for entity tasks")
        self.scheme = train_scheme

    def options(self) -> dict[str, Any]:
        return {"train_scheme": self.scheme, **super().options()}

    def prepare(self, raw: Any, corpus: Any, known_words: KnownWords | None = None) -> Any:
        source = corpus.scheme
        if source == "auto":
            source = detect_scheme(raw["train"]["tags"])
            log.info("detected tag scheme: %s", source.upper())
        if source not in ENTITY_SCHEMES:
            raise CorpusFormatError(
                corpus.root, None,
                f"entity tagging needs tags in IOB1/IOB2/IOBES, but the corpus scheme is {source!r}; "
                "use data/task=token for plain token tags")
        if source == self.scheme:
            return raw
        target = self.scheme
        return raw.map(lambda batch: {"tags": [convert(t, source, target) for t in batch["tags"]]},
                       batched=True, desc=f"tags {source}->{target}")

    def label_strings(self, vocabs: Vocabularies, ids: Sequence[int]) -> list[str]:
        tags = [vocabs.tags.itos[i] for i in ids]
        return convert(tags, vocabs.scheme, "iob2") if vocabs.scheme != "iob2" else tags

    def entities(self, tokens: list[str], tags: list[str], spans: list[Token] | None) -> list[Entity]:
        entities = []
        for kind, first, last in get_entities(tags):
            entity = Entity(" ".join(tokens[first : last + 1]), kind, first, last + 1)
            if spans is not None:
                entity.start_char, entity.end_char = spans[first].start, spans[last].end
            entities.append(entity)
        return entities

    def known_labels(self, vocabs: Vocabularies) -> set[str]:
        # gold may come in another IOB scheme: what counts is the entity type
        types = {split_tag(tag)[1] for tag in vocabs.tags.itos} - {""}
        return {f"{prefix}-{t}" for prefix in "BIES" for t in types} | {"O"}

    def gold(self, rows: list[dict]) -> list[list[str]]:
        """IOB2 gold tags whatever the file's IOB scheme; a tag without an IOB prefix
        becomes ``B-<tag>``, a chunk no prediction can match (scored as an error)."""
        def fix(tag: str) -> str:
            return tag if tag == "O" or tag[1:2] == "-" else f"B-{tag}"

        fixed = [[fix(t) for t in tags] for tags in self.labels_as_read(rows)]
        scheme = detect_scheme(fixed)
        return [convert(tags, scheme, "iob2") for tags in fixed] if scheme != "iob2" else fixed

    def score(self, gold: list[list[str]], pred: list[list[str]]) -> tuple[dict[str, float], str]:
        return entity_scores(gold, pred)

    def kind(self, label: str) -> str:
        return split_tag(label)[1] or "O"
