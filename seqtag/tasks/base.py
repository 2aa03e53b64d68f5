"""The Task: everything that differs between kinds of task, in one class per kind.

A task reads a corpus' rows into tokens and gold labels, builds the vocabularies,
encodes inputs into model examples (the same code for training and prediction),
scores predictions (the same scorer for training and ``seqtag-eval``), and turns
model outputs into results (:mod:`seqtag.tasks.results`). Data modules, models,
the predictor and the command-line tools call these methods and never ask which
task they hold. Adding a task is one subclass registered with
``@register("task", name)`` plus its config under ``conf/data/task/``.

Tasks are light: they import neither Lightning nor ``datasets``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from typing import Any, ClassVar

import numpy as np

from seqtag.batch import Collator
from seqtag.errors import ConfigError
from seqtag.registry import lookup, name_of
from seqtag.vocab import Vocab, Vocabularies

Example = dict[str, np.ndarray]
KnownWords = Callable[[str], bool]


class Task(ABC):
    """Base of every task. ``metric`` names the validation score that checkpoints,
    early stopping and LR schedules watch (one of :attr:`metrics`)."""

    metrics: ClassVar[tuple[str, ...]]
    #: the batch key that holds the gold labels
    target: ClassVar[str]
    #: the units scores count, for reports
    unit: ClassVar[str]
    #: the columns a model reads (``words`` first: it gives the lengths)
    input_columns: ClassVar[tuple[str, ...]]
    #: which corpus reader reads gold files for this task (``seqtag-eval --file``)
    reader: ClassVar[str]

    def __init__(self, metric: str | None = None) -> None:
        metric = metric or self.metrics[0]
        if metric not in self.metrics:
            raise ConfigError(f"{type(self).__name__} reports {', '.join(self.metrics)}; "
                              f"metric={metric!r} is not one of them")
        self.metric = metric

    # -- identity ---------------------------------------------------------------------
    @abstractmethod
    def options(self) -> dict[str, Any]:
        """The constructor's arguments as plain values (saved with the model)."""

    def to_dict(self) -> dict[str, Any]:
        return {"type": name_of(type(self)), **self.options()}

    @staticmethod
    def from_dict(data: dict[str, Any]) -> Task:
        options = {k: v for k, v in data.items() if k != "type"}
        return lookup("task", data["type"])(**options)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in self.options().items())})"

    # -- reading ----------------------------------------------------------------------
    @abstractmethod
    def prepare(self, raw: Any, corpus: Any, known_words: KnownWords | None = None) -> Any:
        """A corpus' splits (a ``datasets.DatasetDict`` as ``corpus`` read them) with a
        ``tokens`` column and gold labels ready for training. ``known_words`` tells the
        words the pretrained vectors know."""

    @abstractmethod
    def vocabularies(self, raw: Any, min_freq: int = 1, known_words: KnownWords | None = None,
                     ) -> Vocabularies:
        """The vocabularies of prepared splits: words of the training split (and, when
        ``known_words`` is given, validation and test words it knows), labels, characters."""

    def _words(self, raw: Any, min_freq: int, known_words: KnownWords | None, key: Callable[[str], str],
               ) -> tuple[Vocab, Counter[str]]:
        counts: Counter[str] = Counter()
        for tokens in raw["train"]["tokens"]:
            counts.update(key(t) for t in tokens)
        extra: set[str] = set()
        if known_words is not None:
            for split in ("validation", "test"):
                if split in raw:
                    extra.update(k for tokens in raw[split]["tokens"] for t in tokens
                                 if known_words(k := key(t)))
        return Vocab.for_words(counts, min_freq, extra), counts

    @abstractmethod
    def examples(self, vocabs: Vocabularies, split: Any) -> list[Example]:
        """Encoded training examples (inputs and gold labels) of one prepared split."""

    # -- encoding, for training and prediction --------------------------------------------
    @abstractmethod
    def encode(self, vocabs: Vocabularies, tokens: Sequence[str]) -> Example:
        """One input's model columns."""

    def collator(self, vocabs: Vocabularies, with_target: bool = True) -> Collator:
        columns = self.input_columns + ((self.target,) if with_target else ())
        return Collator(columns, self.batch_width())

    def batch_width(self) -> int | None:
        """Positions every batch is padded to (None: its longest example's)."""
        return None

    # -- prediction ------------------------------------------------------------------------
    @abstractmethod
    def read_inputs(self, inputs: Sequence[str] | Sequence[Sequence[str]], vocabs: Vocabularies) -> list[Any]:
        """Texts or token lists as the task's input items (tokenised as in training)."""

    @abstractmethod
    def batchable(self, vocabs: Vocabularies, items: list[Any], docs: Sequence[int] | None,
                  ) -> tuple[list[Example], list[list[int]]]:
        """Examples to run, and for each the indices of the items it holds."""

    @abstractmethod
    def results(self, vocabs: Vocabularies, items: list[Any], groups: list[list[int]],
                rows: list[list]) -> list[Any]:
        """Results (:class:`Sentence` or :class:`Document`) in input order, from the model's rows."""

    # -- scoring ---------------------------------------------------------------------------
    @abstractmethod
    def score(self, gold: list[list[str]], pred: list[list[str]]) -> tuple[dict[str, float], str]:
        """Scores and a text report of gold and predicted label sequences."""

    def score_ids(self, vocabs: Vocabularies) -> Callable[[list[list[int]], list[list[int]]],
                                                         tuple[dict[str, float], str]]:
        """:meth:`score` for label ids, as the training metric gathers them."""
        def scorer(gold: list[list[int]], pred: list[list[int]]) -> tuple[dict[str, float], str]:
            return self.score([self.label_strings(vocabs, g) for g in gold],
                              [self.label_strings(vocabs, p) for p in pred])
        return scorer

    def label_strings(self, vocabs: Vocabularies, ids: Iterable[int]) -> list[str]:
        """Label ids as the strings that are scored and reported."""
        return [vocabs.tags.itos[i] for i in ids]

    def known_labels(self, vocabs: Vocabularies) -> set[str]:
        """Gold labels the model can predict (others are scored as errors)."""
        return set(vocabs.tags.itos)

    def labels_as_read(self, rows: list[dict]) -> list[list[str]]:
        """Gold label sequences of rows read by the corpus reader, as the file writes them."""
        return [list(row[self.target]) if isinstance(row[self.target], list) else [row[self.target]]
                for row in rows]

    def gold(self, rows: list[dict]) -> list[list[str]]:
        """Gold label sequences ready to score (a task may rewrite labels to score them)."""
        return self.labels_as_read(rows)

    @abstractmethod
    def gold_inputs(self, rows: list[dict]) -> tuple[list, list[int]]:
        """The model inputs of rows read by the corpus reader, and their documents."""

    @abstractmethod
    def prediction_lines(self, result: Any, gold: list[str], pred: list[str]) -> list[str]:
        """Lines of ``seqtag-eval --predictions`` for one result."""

    def kind(self, label: str) -> str:
        """What a confusion table counts a label as."""
        return label
