"""The Lightning data module: a corpus read into splits, prepared, indexed and encoded
by a task, served as length-bucketed padded batches. One class for every task."""

from __future__ import annotations

import logging
from typing import Any

import lightning as L
from torch.utils.data import DataLoader

from seqtag.data.batching import BucketBatchSampler
from seqtag.data.corpus import Corpus
from seqtag.data.vectors import PretrainedVectors
from seqtag.errors import DataNotFoundError
from seqtag.tasks import Task
from seqtag.tasks.base import KnownWords
from seqtag.vocab import Vocabularies

log = logging.getLogger(__name__)


class DataModule(L.LightningDataModule):
    """``corpus`` read (:meth:`Corpus.splits`: ``val_fraction``, ``split_seed``,
    ``val_split`` and ``max_examples`` say how), then ``task`` prepares the splits,
    builds the vocabularies (words seen ``min_freq`` times in training; with
    ``vectors``, validation and test words that have a pretrained vector join them, so
    their vectors are used) and encodes every example.

    ``vectors`` are the model's pretrained vectors, handed over by whoever builds
    both (``seqtag-train``): the data config does not reach into the model's.
    """

    def __init__(
        self, task: Task, corpus: Corpus, batch_size: int = 32, eval_batch_size: int = 256,
        num_workers: int = 0, min_freq: int = 1, max_examples: int | None = None, val_fraction: float = 0.1,
        split_seed: int = 0, val_split: str = "random", cache_dir: str | None = None, seed: int = 0,
        vectors: PretrainedVectors | None = None,
    ) -> None:
        super().__init__()
        self.task = task
        self.corpus = corpus
        self.batch_size = batch_size
        self.eval_batch_size = eval_batch_size
        self.num_workers = num_workers
        self.min_freq = min_freq
        self.split_options = {"val_fraction": val_fraction, "split_seed": split_seed, "val_split": val_split,
                              "max_examples": max_examples}
        self.cache_dir = cache_dir
        self.seed = seed
        self.vectors = vectors
        self.vocabs: Vocabularies | None = None
        self.splits: dict[str, list[dict]] = {}

    def source(self) -> dict[str, Any]:
        """Where the data came from, as plain values: what ``seqtag-eval`` reads a split with."""
        return {"corpus": self.corpus.to_dict(), **self.split_options}

    def training_tokens(self) -> list[list[str]]:
        """The tokens of every training example, read and tokenised as for training."""
        return [tokens for tokens in self._prepared()["train"]["tokens"] if tokens]

    def _prepared(self, known: KnownWords | None = None) -> Any:
        """Every split read by the corpus and prepared by the task."""
        return self.task.prepare(self.corpus.splits(self.cache_dir, **self.split_options), self.corpus, known)

    def setup(self, stage: str | None = None) -> None:
        if self.vocabs is not None:
            return
        known = self.vectors.__contains__ if self.vectors is not None else None
        raw = self._prepared(known)
        vocabs = self.task.vocabularies(raw, self.min_freq, known)
        # Arrow rows are slow to fetch one by one; hold each split as numpy arrays.
        self.splits = {name: self.task.examples(vocabs, split) for name, split in raw.items()}
        log.info("examples: %s", ", ".join(f"{k} {len(v)}" for k, v in self.splits.items()))
        self.vocabs = vocabs

    def _loader(self, split: str, train: bool) -> DataLoader:
        if split not in self.splits:
            raise DataNotFoundError(f"the corpus has no {split!r} split (files: {self.corpus.files})")
        examples = self.splits[split]
        sampler = BucketBatchSampler([len(ex["words"]) for ex in examples],
                                     self.batch_size if train else self.eval_batch_size,
                                     shuffle=train, seed=self.seed)
        return DataLoader(examples, batch_sampler=sampler, collate_fn=self.task.collator(self.vocabs),
                          num_workers=self.num_workers, persistent_workers=self.num_workers > 0)

    def train_dataloader(self) -> DataLoader:
        return self._loader("train", train=True)

    def val_dataloader(self) -> DataLoader:
        return self._loader("validation", train=False)

    def test_dataloader(self) -> DataLoader:
        return self._loader("test", train=False)
