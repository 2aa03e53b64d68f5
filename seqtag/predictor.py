"""Use a trained model without the training setup: ``seqtag.load(path).predict(...)``.

    >>> tagger = seqtag.load("outputs/runs/<run>")           # or model.pt / a .ckpt
    >>> tagger.predict("EU rejects German call to boycott British lamb .").entities
    [Entity(text='EU', type='ORG', start=0, end=1, ...), ...]
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from seqeval.metrics.sequence_labeling import get_entities
from tqdm.auto import tqdm

from seqtag import saved_model
from seqtag.data.batching import TaggingCollator
from seqtag.data.documents import concat_examples, group_sentences
from seqtag.data.schemes import convert
from seqtag.data.text import document_tokens
from seqtag.data.vocab import UNK
from seqtag.models.tagger import SequenceTagger
from seqtag.tokenize import tokenize

INPUT_COLUMNS = ("words", "case", "chars", "starts")


@dataclass
class Entity:
    """A predicted span: tokens ``start`` to ``end`` (exclusive); character offsets
    in the input text when the input was text."""

    text: str
    type: str
    start: int
    end: int
    start_char: int | None = None
    end_char: int | None = None


@dataclass
class Classification:
    """One document's label, and the probability of every label."""

    label: str
    scores: dict[str, float]
    tokens: list[str]
    text: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Prediction:
    """One sentence's tokens and tags (IOB2 for entity models), and its entities."""

    tokens: list[str]
    tags: list[str]
    entities: list[Entity] = field(default_factory=list)
    text: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)


class Predictor:
    """Tags sentences with a trained model, in batches sorted by length.

    Token lists are used as given; strings are tokenised with
    :func:`seqtag.tokenize.tokenize`.
    """

    def __init__(
        self, model: SequenceTagger, batch_size: int = 32, device: str | torch.device = "cpu"
    ) -> None:
        self.model = model.eval().to(device)
        self.device = torch.device(device)
        self.batch_size = batch_size
        self.vocabs = model.vocabs
        self.context_tokens = int(getattr(model, "context_tokens", 0))
        self.model_path = "(in memory)"

    @classmethod
    def load(cls, path: str | Path, batch_size: int = 32, device: str = "cpu") -> Predictor:
        record = saved_model.read(path)
        predictor = cls(saved_model.build(record), batch_size=batch_size, device=device)
        predictor.model_path = record["path"]
        return predictor

    @property
    def labels(self) -> list[str]:
        return list(self.vocabs.tags.itos)

    @property
    def task(self) -> str:
        return self.vocabs.task

    def predict(
        self, inputs: str | Sequence[str] | Sequence[Sequence[str]], document: bool = False,
        batch_size: int | None = None, progress: bool = False,
    ) -> Prediction | Classification | list[Prediction] | list[Classification]:
        """Tag (or, with a classifier, label) one text, a list of texts, or a list of token lists.

        ``document=True`` reads the inputs as consecutive sentences of one
        document, which models trained with document context
        (``data.context_tokens``) use.
        """
        if isinstance(inputs, str):
            return self.predict([inputs], document, batch_size)[0]
        inputs = list(inputs)
        if self.task == "document":
            return self.classify(inputs, batch_size=batch_size, progress=progress)
        if all(isinstance(x, str) for x in inputs):
            pieces = [tokenize(text) for text in inputs]
            sentences = [[t.text for t in tokens] for tokens in pieces]
        elif all(isinstance(x, (list, tuple)) and all(isinstance(t, str) for t in x) for x in inputs):
            pieces, sentences = None, [list(x) for x in inputs]
        else:
            raise TypeError("predict() takes a string, a list of strings, or a list of token lists")
        docs = [0] * len(sentences) if document else list(range(len(sentences)))
        tags = self.tag(sentences, docs, batch_size=batch_size, progress=progress)
        out = []
        for i, (tokens, sentence_tags) in enumerate(zip(sentences, tags, strict=True)):
            spans = pieces[i] if pieces is not None else None
            out.append(Prediction(tokens, sentence_tags, self.entities(tokens, sentence_tags, spans),
                                  inputs[i] if pieces is not None else None))
        return out

    def classify(
        self, inputs: Sequence[str] | Sequence[Sequence[str]], batch_size: int | None = None,
        progress: bool = False,
    ) -> list[Classification]:
        """Label documents (texts, tokenised as in training, or token lists)."""
        if self.task != "document":
            raise ValueError("this model tags tokens; use predict() or tag()")
        texts = [x if isinstance(x, str) else None for x in inputs]
        options = {k: v for k, v in self.model.text_options.items() if k != "known_words_only"}
        # a model trained on known words only saw no others: its vocabulary is the filter
        keep = self.vocabs.words.__contains__ if self.model.text_options.get("known_words_only") else None
        documents = [document_tokens(x, **options, keep=keep) if isinstance(x, str) else list(x)
                     for x in inputs]
        max_length = options.get("max_length")
        examples = []
        for tokens in documents:
            encoded = self.vocabs.encode((tokens[:max_length] if max_length else tokens) or [UNK],
                                         chars=self.vocabs.chars is not None)
            encoded.pop("starts")
            examples.append(encoded)
        probabilities = self._run(examples, batch_size, progress, self.model.predict_labels)
        labels = self.vocabs.tags.itos
        return [
            Classification(labels[max(range(len(row)), key=row.__getitem__)],
                           {label: float(p) for label, p in zip(labels, row, strict=True)}, tokens, text)
            for row, tokens, text in zip(probabilities, documents, texts, strict=True)
        ]

    def _run(self, examples: list[dict], batch_size: int | None, progress: bool, step) -> list[list]:
        """``step``'s output rows for every example, in input order, batched by length."""
        batch_size = batch_size or self.batch_size
        columns = tuple(name for name in INPUT_COLUMNS if name in examples[0]) if examples else ()
        collate = TaggingCollator(columns)
        order = np.argsort([-len(ex["words"]) for ex in examples], kind="stable")
        batches = [order[k : k + batch_size] for k in range(0, len(order), batch_size)]
        rows: list[list] = [[] for _ in examples]
        with torch.inference_mode():
            for batch_ids in tqdm(batches, disable=not progress, unit="batch", file=sys.stderr,
                                  desc="predicting"):
                batch = collate([examples[k] for k in batch_ids])
                batch = self.model.transfer_batch_to_device(batch, self.device, 0)
                for row, k in zip(step(batch).cpu().tolist(), batch_ids, strict=True):
                    rows[k] = row
        return rows

    def entities(self, tokens: list[str], tags: list[str], spans: list | None = None) -> list[Entity]:
        """The entity spans of IOB2 ``tags`` (character offsets from ``spans``, the tokenizer's)."""
        if self.task != "entity":
            return []
        entities = []
        for kind, first, last in get_entities(tags):
            entity = Entity(" ".join(tokens[first : last + 1]), kind, first, last + 1)
            if spans is not None:
                entity.start_char, entity.end_char = spans[first].start, spans[last].end
            entities.append(entity)
        return entities

    def tag(
        self, sentences: Sequence[Sequence[str]], docs: Sequence[int] | None = None,
        batch_size: int | None = None, progress: bool = False,
    ) -> list[list[str]]:
        """Tags of each sentence (IOB2 for entity models); an empty sentence gets none.

        ``docs`` gives each sentence's document; with a model trained with
        document context, consecutive sentences of a document are read together.
        """
        results: list[list[str]] = [[] for _ in sentences]
        kept = [i for i, s in enumerate(sentences) if len(s) > 0]
        if self.task == "document":
            raise ValueError("this model labels documents; use predict() or classify()")
        if not kept:
            return results
        encoded = {i: self.vocabs.encode(list(sentences[i])) for i in kept}
        if self.context_tokens and docs is not None:
            groups = [[kept[j] for j in g] for g in
                      group_sentences([len(sentences[i]) for i in kept], [docs[i] for i in kept],
                                      self.context_tokens)]
        else:
            groups = [[i] for i in kept]
        examples = [concat_examples([encoded[i] for i in g]) for g in groups]
        rows = self._run(examples, batch_size, progress, self.model.predict_tags)
        for row, group in zip(rows, groups, strict=True):
            offset = 0
            for i in group:
                n = len(sentences[i])
                results[i] = self._strings(row[offset : offset + n])
                offset += n
        return results

    def _strings(self, ids: list[int]) -> list[str]:
        tags = [self.vocabs.tags.itos[i] for i in ids]
        if self.task == "entity" and self.vocabs.scheme != "iob2":
            return convert(tags, self.vocabs.scheme, "iob2")
        return tags


def load(path: str | Path, batch_size: int = 32, device: str = "cpu") -> Predictor:
    """A :class:`Predictor` for a saved model (``model.pt``), a checkpoint or a run directory."""
    return Predictor.load(path, batch_size=batch_size, device=device)
