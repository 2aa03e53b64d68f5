"""The Lightning data module for token tagging: corpus -> vocabularies -> padded batches."""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass

import datasets
import lightning as L
import numpy as np
from torch.utils.data import DataLoader

from seqtag.data.batching import BucketBatchSampler, SplitLoaders, TaggingCollator, pad_chars
from seqtag.data.casing import casing
from seqtag.data.corpus import Corpus
from seqtag.data.documents import join_sentences, sentence_starts
from seqtag.data.errors import CorpusFormatError
from seqtag.data.schemes import ENTITY_SCHEMES, check_scheme, convert, detect_scheme
from seqtag.data.vectors import PretrainedVectors
from seqtag.data.vocab import UNK, Vocab, normalize

log = logging.getLogger(__name__)
METRICS = {"f1": "entity", "acc": "token"}
COLUMNS = ("words", "tags", "case", "chars", "starts")


@dataclass
class Vocabularies:
    """What a model needs to know about its data: indices, tag scheme and task."""

    words: Vocab
    tags: Vocab
    scheme: str
    task: str
    lowercase: bool = False
    digits_to_zero: bool = False
    chars: Vocab | None = None
    max_word_length: int = 20

    def word_key(self, word: str) -> str:
        return normalize(word, self.lowercase, self.digits_to_zero)

    def encode(self, tokens: list[str], chars: bool = True) -> dict[str, np.ndarray]:
        """One sentence's model inputs (no ``tags``): word, casing and (``chars``)
        character indices, and the sentence start."""
        encoded = {
            "words": np.asarray([self.words.index(self.word_key(t)) for t in tokens], dtype=np.int64),
            "case": np.asarray([casing(t) for t in tokens], dtype=np.int64),
            "starts": sentence_starts(len(tokens)),
        }
        if chars:
            width, vocab = self.max_word_length, self.chars
            encoded["chars"] = pad_chars(
                [vocab.indices(t[:width]) if vocab is not None else [] for t in tokens])
        return encoded

    def to_dict(self) -> dict:
        """Plain lists and scalars only, so a saved model loads without unpickling classes."""
        return {
            "words": list(self.words.itos), "unk": self.words.unk, "tags": list(self.tags.itos),
            "chars": list(self.chars.itos) if self.chars is not None else None,
            "scheme": self.scheme, "task": self.task, "lowercase": self.lowercase,
            "digits_to_zero": self.digits_to_zero, "max_word_length": self.max_word_length,
        }

    @classmethod
    def from_dict(cls, data: dict) -> Vocabularies:
        chars = data.get("chars")
        return cls(
            Vocab(list(data["words"]), unk=data["unk"]), Vocab(list(data["tags"])), data["scheme"],
            data["task"], data["lowercase"], data["digits_to_zero"],
            Vocab(list(chars), unk=UNK) if chars is not None else None, data["max_word_length"],
        )


class TaggingDataModule(SplitLoaders, L.LightningDataModule):
    """Loads a corpus, converts its tags to the training scheme and numericalises it.

    ``metric`` names the task: ``f1`` (entity spans scored with seqeval, tags in
    an IOB scheme) or ``acc`` (token accuracy, e.g. POS). ``train_scheme`` is the
    scheme the model learns (``iob2`` or ``iobes``); scores are always on IOB2.
    Words seen in validation/test that have a pretrained vector join the
    vocabulary, so their vectors are used even though training never saw them.
    Character indices (first ``max_word_length`` characters of each token) come
    with every batch for character-level word features.
    ``context_tokens > 0`` joins consecutive sentences of a document into examples
    of up to that many tokens (see :mod:`seqtag.data.documents`); ``batch_size``
    then counts those examples. Scores stay per sentence either way.
    """

    def __init__(
        self, corpus: Corpus, metric: str = "f1", train_scheme: str = "iob2",
        min_freq: int = 1, lowercase: bool = False, digits_to_zero: bool = False,
        vectors: PretrainedVectors | None = None, batch_size: int = 32,
        eval_batch_size: int = 256, num_workers: int = 0, max_sentences: int | None = None,
        cache_dir: str | None = None, seed: int = 0, max_word_length: int = 20,
        context_tokens: int = 0,
    ) -> None:
        super().__init__()
        if metric not in METRICS:
            raise ValueError(f"metric must be one of {sorted(METRICS)}, got {metric!r}")
        self.corpus = corpus
        self.metric = metric
        self.task = METRICS[metric]
        self.train_scheme = check_scheme(train_scheme)
        if self.task == "entity" and self.train_scheme not in ("iob2", "iobes"):
            raise ValueError("train_scheme must be 'iob2' or 'iobes' for entity tasks")
        if self.task == "token":
            self.train_scheme = "none"
        self.min_freq = min_freq
        self.lowercase = lowercase
        self.digits_to_zero = digits_to_zero
        self.vectors = vectors
        self.batch_size = batch_size
        self.eval_batch_size = eval_batch_size
        self.num_workers = num_workers
        self.max_sentences = max_sentences
        self.cache_dir = cache_dir
        self.seed = seed
        self.max_word_length = max_word_length
        if context_tokens < 0:
            raise ValueError("context_tokens must be 0 (single sentences) or a positive token count")
        self.context_tokens = context_tokens
        self.vocabs: Vocabularies | None = None
        self.splits: dict[str, list[dict[str, np.ndarray]]] = {}
        self.raw: datasets.DatasetDict | None = None

    # -- building -----------------------------------------------------------------
    def _limit(self, raw: datasets.DatasetDict) -> datasets.DatasetDict:
        if self.max_sentences is None:
            return raw
        return datasets.DatasetDict(
            {k: v.select(range(min(self.max_sentences, len(v)))) for k, v in raw.items()}
        )

    def _to_training_scheme(self, raw: datasets.DatasetDict) -> datasets.DatasetDict:
        if self.task != "entity":
            return raw
        source = self.corpus.scheme
        if source == "auto":
            source = detect_scheme(raw["train"]["tags"])
            log.info("detected tag scheme: %s", source.upper())
        if source not in ENTITY_SCHEMES:
            raise CorpusFormatError(
                self.corpus.root, None,
                f"metric 'f1' needs entity tags in IOB1/IOB2/IOBES, but the corpus scheme is "
                f"{source!r}; use metric=acc for plain token tags",
            )
        if source == self.train_scheme:
            return raw
        target = self.train_scheme
        return raw.map(
            lambda batch: {"tags": [convert(t, source, target) for t in batch["tags"]]},
            batched=True, desc=f"tags {source}->{target}",
        )

    def _build_vocabularies(self, raw: datasets.DatasetDict) -> Vocabularies:
        counts: Counter[str] = Counter()
        for tokens in raw["train"]["tokens"]:
            counts.update(normalize(t, self.lowercase, self.digits_to_zero) for t in tokens)
        extra: set[str] = set()
        if self.vectors is not None:
            for split in ("validation", "test"):
                if split in raw:
                    for tokens in raw[split]["tokens"]:
                        extra.update(
                            k for t in tokens
                            if (k := normalize(t, self.lowercase, self.digits_to_zero)) in self.vectors
                        )
        words = Vocab.for_words(counts, self.min_freq, extra)
        tags = Vocab.for_tags(t for split in raw.values() for seq in split["tags"] for t in seq)
        chars = Vocab.for_words(Counter(ch for word in counts.elements() for ch in word))
        kept = {w for w, c in counts.items() if c >= self.min_freq}
        log.info("vocabulary: %d words (%d from dev/test with vectors), %d characters, %d tags",
                 len(words), len(extra - kept), len(chars), len(tags))
        return Vocabularies(words, tags, self.train_scheme, self.task, self.lowercase,
                            self.digits_to_zero, chars, self.max_word_length)

    def setup(self, stage: str | None = None) -> None:
        if self.vocabs is not None:
            return
        raw = self._to_training_scheme(self._limit(self.corpus.load(self.cache_dir)))
        vocabs = self._build_vocabularies(raw)
        # Arrow rows are slow to fetch one by one; hold each split as numpy arrays.
        self.splits = {
            name: [
                {**vocabs.encode(tokens), "tags": np.asarray(vocabs.tags.indices(tags), dtype=np.int64)}
                for tokens, tags in zip(split["tokens"], split["tags"], strict=True)
            ]
            for name, split in raw.items()
        }
        if self.context_tokens:
            self.splits = {
                name: join_sentences(examples, raw[name]["doc"], self.context_tokens)
                for name, examples in self.splits.items()
            }
            log.info("document context: %s examples of up to %d tokens",
                     ", ".join(f"{k} {len(v)}" for k, v in self.splits.items()), self.context_tokens)
        self.raw = raw
        self.vocabs = vocabs

    # -- loaders ------------------------------------------------------------------
    def _loader(self, split: str, train: bool) -> DataLoader:
        if split not in self.splits:
            raise KeyError(f"the corpus has no {split!r} split (files: {self.corpus.files})")
        examples = self.splits[split]
        sampler = BucketBatchSampler(
            [len(ex["words"]) for ex in examples],
            self.batch_size if train else self.eval_batch_size,
            shuffle=train, seed=self.seed,
        )
        return DataLoader(
            examples, batch_sampler=sampler, collate_fn=TaggingCollator(COLUMNS),
            num_workers=self.num_workers, persistent_workers=self.num_workers > 0,
        )
