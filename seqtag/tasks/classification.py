"""Document classification: one label per document (sentiment), scored by accuracy."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np

from seqtag.batch import encode_tokens
from seqtag.errors import ConfigError, CorpusFormatError
from seqtag.registry import register
from seqtag.tasks.base import Example, KnownWords, Task
from seqtag.tasks.results import Document
from seqtag.tasks.scoring import accuracy_scores, positive_scores
from seqtag.tokenize import document_tokens
from seqtag.vocab import UNK, Vocab, Vocabularies

log = logging.getLogger(__name__)


@register("task", "document")
class DocumentClassification(Task):
    """A label per document.

    Texts are tokenised by :func:`seqtag.tokenize.document_tokens` (``lowercase``,
    ``strip_html``) and cut at ``max_length`` tokens. ``known_words_only`` drops the
    tokens that have no pretrained vector before the cut, as the vectorisers of
    frozen-embedding models do (in prediction the model's vocabulary is the filter).
    ``pad_to_max_length`` pads every batch to ``max_length`` positions (for encoders
    that read the padding). ``positive`` names the label whose precision, recall and
    F1 are reported. ``char_features`` adds characters (first ``max_word_length``).
    """

    metrics = ("acc", "f1_pos")
    target = "label"
    unit = "documents"
    reader = "labelled"

    def __init__(self, lowercase: bool = True, strip_html: bool = True, max_length: int | None = 400,
                 known_words_only: bool = False, pad_to_max_length: bool = False, positive: str | None = None,
                 char_features: bool = False, max_word_length: int = 20, metric: str | None = None) -> None:
        super().__init__(metric)
        if pad_to_max_length and not max_length:
            raise ConfigError("pad_to_max_length needs max_length")
        if self.metric == "f1_pos" and positive is None:
            raise ConfigError("metric=f1_pos needs the positive label (positive=...)")
        self.lowercase = lowercase
        self.strip_html = strip_html
        self.max_length = max_length
        self.known_words_only = known_words_only
        self.pad_to_max_length = pad_to_max_length
        self.positive = positive
        self.char_features = char_features
        self.max_word_length = max_word_length
        self.input_columns = ("words", "case") + (("chars",) if char_features else ())

    def options(self) -> dict[str, Any]:
        return {"lowercase": self.lowercase, "strip_html": self.strip_html, "max_length": self.max_length,
                "known_words_only": self.known_words_only, "pad_to_max_length": self.pad_to_max_length,
                "positive": self.positive, "char_features": self.char_features,
                "max_word_length": self.max_word_length, "metric": self.metric}

    def tokens(self, text: str, known_words: KnownWords | None = None) -> list[str]:
        return document_tokens(text, self.lowercase, self.strip_html, self.max_length,
                               keep=known_words if self.known_words_only else None)

    # -- reading ----------------------------------------------------------------------
    def prepare(self, raw: Any, corpus: Any, known_words: KnownWords | None = None) -> Any:
        if self.known_words_only and known_words is None:
            raise ConfigError("known_words_only needs pretrained vectors to tell known words")
        labels = set(raw["train"]["label"])
        for split, data in raw.items():
            unknown = set(data["label"]) - labels
            if unknown:
                raise CorpusFormatError(corpus.path(split), None,
                                        f"labels {sorted(unknown)} do not occur in the training data")
        return raw.map(lambda batch: {"tokens": [self.tokens(t, known_words) for t in batch["text"]]},
                       batched=True, desc="tokenising")

    def vocabularies(self, raw: Any, min_freq: int = 1, known_words: KnownWords | None = None,
                     ) -> Vocabularies:
        if self.known_words_only and min_freq > 1:
            # prediction filters words by the vocabulary; with min_freq > 1 it would drop
            # known words that training kept (as <unk>), and read texts differently
            raise ConfigError("known_words_only needs min_freq=1")
        words, counts = self._words(raw, min_freq, known_words, str)
        labels = Vocab(sorted(set(raw["train"]["label"])))
        chars = None
        if self.char_features:
            chars = Vocab.for_words(Counter(ch for w in counts.elements() for ch in w))
        log.info("vocabulary: %d words, labels %s; documents: %s", len(words), labels.itos,
                 ", ".join(f"{k} {len(v)}" for k, v in raw.items()))
        if self.positive is not None and self.positive not in labels:
            raise ConfigError(f"positive label {self.positive!r} is not one of the labels {labels.itos}")
        return Vocabularies(words, labels, chars=chars, max_word_length=self.max_word_length)

    def examples(self, vocabs: Vocabularies, split: Any) -> list[Example]:
        return [{**self.encode(vocabs, tokens), "label": np.int64(vocabs.tags.index(label))}
                for tokens, label in zip(split["tokens"], split["label"], strict=True)]

    def encode(self, vocabs: Vocabularies, tokens: Sequence[str]) -> Example:
        tokens = list(tokens[: self.max_length] if self.max_length else tokens) or [UNK]
        return encode_tokens(vocabs, tokens, chars=self.char_features)

    def batch_width(self) -> int | None:
        return self.max_length if self.pad_to_max_length else None

    # -- prediction ------------------------------------------------------------------------
    def read_inputs(self, inputs: Sequence[str] | Sequence[Sequence[str]], vocabs: Vocabularies,
                    ) -> list[tuple[list[str], str | None]]:
        """``(tokens, text)``; a model trained on known words only saw no others: its
        vocabulary is the filter."""
        known = vocabs.words.__contains__
        return [(self.tokens(x, known), x) if isinstance(x, str) else (list(x), None) for x in inputs]

    def batchable(self, vocabs: Vocabularies, items: list, docs: Sequence[int] | None,
                  ) -> tuple[list[Example], list[list[int]]]:
        return [self.encode(vocabs, tokens) for tokens, _ in items], [[i] for i in range(len(items))]

    def results(self, vocabs: Vocabularies, items: list, groups: list[list[int]], rows: list[list],
                ) -> list[Document]:
        labels = vocabs.tags.itos
        return [Document(labels[max(range(len(row)), key=row.__getitem__)],
                         {label: float(p) for label, p in zip(labels, row, strict=True)}, tokens, text)
                for row, (tokens, text) in zip(rows, items, strict=True)]

    # -- scoring ---------------------------------------------------------------------------
    def gold_inputs(self, rows: list[dict]) -> tuple[list, list[int]]:
        return [row["text"] for row in rows], list(range(len(rows)))

    def prediction_lines(self, result: Document, gold: list[str], pred: list[str]) -> list[str]:
        return [f"{gold[0]} {pred[0]}"]

    def score(self, gold: list[list[str]], pred: list[list[str]]) -> tuple[dict[str, float], str]:
        scores, report = accuracy_scores(gold, pred, self.unit)
        if self.positive is not None:
            extra, line = positive_scores([g for gs in gold for g in gs], [p for ps in pred for p in ps],
                                          self.positive)
            scores.update(extra)
            report = report.split("\n", 1)[0] + "\n" + line + report.split("\n", 1)[1]
        return scores, report
