"""Documents with labels (IMDB reviews, SST-2 sentences): CSV/TSV files -> ``datasets``
splits -> tokens -> padded batches for a sequence classifier."""

from __future__ import annotations

import csv
import logging
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import datasets
import lightning as L
import numpy as np
from torch.utils.data import DataLoader

from seqtag.data.batching import BucketBatchSampler, SplitLoaders, TaggingCollator
from seqtag.data.datamodule import Vocabularies
from seqtag.data.errors import CorpusFormatError, DataNotFoundError
from seqtag.data.phrases import split_by_sentence
from seqtag.data.text import document_tokens
from seqtag.data.vectors import PretrainedVectors
from seqtag.data.vocab import Vocab

log = logging.getLogger(__name__)
FEATURES = datasets.Features({"text": datasets.Value("string"), "label": datasets.Value("string")})
csv.field_size_limit(2**31 - 1)  # reviews can be long; the default limit is 128 KiB


def read_labelled(path: str, text_column: str, label_column: str, delimiter: str) -> Iterator[dict]:
    """Rows of a CSV/TSV file with a header, as ``{"text", "label"}``; errors name the line."""
    with open(path, encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle, delimiter=delimiter, quoting=csv.QUOTE_NONE if delimiter == "\t"
                            else csv.QUOTE_MINIMAL)
        try:
            header = [h.strip() for h in next(reader)]
        except StopIteration:
            raise CorpusFormatError(path, None, "the file is empty; it needs a header and rows") from None
        except UnicodeDecodeError as err:
            raise CorpusFormatError(path, 1, f"not valid UTF-8 ({err.reason})") from None
        for name in (text_column, label_column):
            if name not in header:
                raise CorpusFormatError(path, 1, f"no column {name!r} in the header {header}")
        text_at, label_at = header.index(text_column), header.index(label_column)
        try:
            for row in reader:
                if not row:
                    continue
                if len(row) != len(header):
                    raise CorpusFormatError(path, reader.line_num,
                                            f"expected {len(header)} fields, found {len(row)}")
                text, label = row[text_at].strip(), row[label_at].strip()
                if not label:
                    raise CorpusFormatError(path, reader.line_num, "empty label")
                if not text:
                    raise CorpusFormatError(path, reader.line_num, "empty text")
                yield {"text": text, "label": label}
        except UnicodeDecodeError as err:
            raise CorpusFormatError(path, reader.line_num + 1, f"not valid UTF-8 ({err.reason})") from None


def _generate(path: str, signature: tuple, options: dict) -> Iterator[dict]:
    del signature  # part of the cache fingerprint only: an edited file is read again
    empty = True
    for row in read_labelled(path, **options):
        empty = False
        yield row
    if empty:
        raise CorpusFormatError(path, None, "no rows found after the header")


class LabelledTextCorpus:
    """A labelled text corpus in delimited files with a header row."""

    def __init__(
        self, root: str, files: dict[str, str], text_column: str = "text", label_column: str = "label",
        delimiter: str = ",",
    ) -> None:
        self.root = Path(root).expanduser()
        self.files = dict(files)
        if "train" not in self.files or set(self.files) - {"train", "validation", "test"}:
            raise ValueError(f"files must name a 'train' split and only train/validation/test: {files}")
        self.options = {"text_column": text_column, "label_column": label_column, "delimiter": delimiter}

    def load(self, cache_dir: str | None = None) -> datasets.DatasetDict:
        paths = {split: self.root / name for split, name in self.files.items()}
        missing = [str(p) for p in paths.values() if not p.is_file()]
        if missing:
            raise DataNotFoundError(
                "corpus files not found. Looked for:\n  " + "\n  ".join(missing) + "\nPut the files "
                "there, or point seqtag at their folder: export SEQTAG_DATA_DIR=/path/to/data or "
                "pass paths.data_dir=/path/to/data."
            )
        splits = {}
        for split, path in paths.items():
            stat = path.stat()
            try:
                splits[split] = datasets.Dataset.from_generator(
                    _generate, features=FEATURES, cache_dir=cache_dir,
                    gen_kwargs={"path": str(path.resolve()), "signature": (stat.st_size, stat.st_mtime_ns),
                                "options": self.options},
                )
            except datasets.exceptions.DatasetGenerationError as err:
                cause = err.__cause__ or err.__context__
                if isinstance(cause, CorpusFormatError):
                    raise cause from None
                raise
        return datasets.DatasetDict(splits)


class ClassificationDataModule(SplitLoaders, L.LightningDataModule):
    """Documents -> tokens -> padded batches with one ``label`` each.

    Without a validation file, ``val_fraction`` of the training documents (a split
    fixed by ``split_seed``, whatever the run's seed) become the validation set.
    ``val_split=sentences`` carves it from treebank phrase data (SST-2) by sentence
    instead: whole sentences are held out and their phrases left out of training
    (:mod:`seqtag.data.phrases`).
    Documents are tokenised by :func:`seqtag.data.text.document_tokens` and cut
    at ``max_length`` tokens; ``pad_to_max_length`` pads every batch to that
    width (for encoders that read the padding, ``pack=False``).
    ``known_words_only`` drops the tokens that have no pretrained vector before
    the cut, as the vectorisers of frozen-embedding models do (the book's IMDB
    models): the words kept are those the vectors know, and ``max_length`` counts
    only them. ``positive`` names the label whose F1 is reported.
    """

    task = "document"
    metric = "acc"

    def __init__(
        self, corpus: LabelledTextCorpus, lowercase: bool = True, strip_html: bool = True,
        max_length: int | None = 400, val_fraction: float = 0.1, split_seed: int = 0,
        min_freq: int = 1, vectors: PretrainedVectors | None = None, batch_size: int = 32,
        eval_batch_size: int = 128, num_workers: int = 0, max_documents: int | None = None,
        cache_dir: str | None = None, seed: int = 0, positive: str | None = None,
        char_features: bool = False, max_word_length: int = 20, metric: str = "acc",
        pad_to_max_length: bool = False, known_words_only: bool = False, val_split: str = "random",
    ) -> None:
        super().__init__()
        if metric != "acc":
            raise ValueError(f"document classification is scored by accuracy (metric=acc), not {metric!r}")
        if not 0 < val_fraction < 1:
            raise ValueError(f"val_fraction must be between 0 and 1, got {val_fraction}")
        if val_split not in ("random", "sentences"):
            raise ValueError(f"val_split must be 'random' or 'sentences', got {val_split!r}")
        self.val_split = val_split
        self.corpus = corpus
        if known_words_only and vectors is None:
            raise ValueError("known_words_only needs pretrained vectors (data.vectors) to tell known words")
        self.text_options = {"lowercase": lowercase, "strip_html": strip_html, "max_length": max_length,
                             "known_words_only": known_words_only}
        self.val_fraction = val_fraction
        self.split_seed = split_seed
        self.min_freq = min_freq
        self.vectors = vectors
        self.batch_size = batch_size
        self.eval_batch_size = eval_batch_size
        self.num_workers = num_workers
        self.max_documents = max_documents
        self.cache_dir = cache_dir
        self.seed = seed
        self.positive = positive
        self.char_features = char_features
        if pad_to_max_length and not max_length:
            raise ValueError("pad_to_max_length needs max_length")
        self.pad_to_max_length = pad_to_max_length
        self.max_word_length = max_word_length
        self.vocabs: Vocabularies | None = None
        self.splits: dict[str, list[dict[str, np.ndarray]]] = {}

    def documents(self) -> datasets.DatasetDict:
        """Every split (validation carved from train if need be), with a ``tokens`` column."""
        raw = self.corpus.load(self.cache_dir)
        if "validation" not in raw and self.val_split == "sentences":
            train, held = split_by_sentence(raw["train"]["text"], self.val_fraction, self.split_seed)
            log.info("validation: %d sentences held out; %d of %d training rows are not part of them",
                     len(held), len(train), len(raw["train"]))
            raw = datasets.DatasetDict({**raw, "train": raw["train"].select(train),
                                        "validation": raw["train"].select(held)})
        elif "validation" not in raw:
            parts = raw["train"].train_test_split(test_size=self.val_fraction, seed=self.split_seed)
            raw = datasets.DatasetDict({**raw, "train": parts["train"], "validation": parts["test"]})
        if self.max_documents is not None:
            raw = datasets.DatasetDict(
                {k: v.shuffle(seed=self.split_seed).select(range(min(self.max_documents, len(v))))
                 for k, v in raw.items()})
        options = {k: v for k, v in self.text_options.items() if k != "known_words_only"}
        vectors = self.vectors if self.text_options["known_words_only"] else None
        keep = vectors.__contains__ if vectors is not None else None
        return raw.map(
            lambda batch: {"tokens": [document_tokens(t, **options, keep=keep) for t in batch["text"]]},
            batched=True, desc="tokenising",
        )

    def setup(self, stage: str | None = None) -> None:
        if self.vocabs is not None:
            return
        raw = self.documents()
        counts: Counter[str] = Counter()
        for tokens in raw["train"]["tokens"]:
            counts.update(tokens)
        extra: set[str] = set()
        if self.vectors is not None:
            for split in ("validation", "test"):
                if split in raw:
                    extra.update(t for tokens in raw[split]["tokens"] for t in tokens if t in self.vectors)
        labels = Vocab(sorted(set(raw["train"]["label"])))
        for split, data in raw.items():
            unknown = set(data["label"]) - set(labels.itos)
            if unknown:
                raise CorpusFormatError(self.corpus.root / self.corpus.files.get(split, split), None,
                                        f"labels {sorted(unknown)} do not occur in the training data")
        chars = None
        if self.char_features:
            chars = Vocab.for_words(Counter(ch for w in counts.elements() for ch in w))
        words = Vocab.for_words(counts, self.min_freq, extra)
        vocabs = Vocabularies(words, labels, "none", self.task, chars=chars,
                              max_word_length=self.max_word_length)
        log.info("vocabulary: %d words, labels %s; documents: %s", len(words), labels.itos,
                 ", ".join(f"{k} {len(v)}" for k, v in raw.items()))
        self.splits = {}
        for name, data in raw.items():
            examples = []
            for tokens, label in zip(data["tokens"], data["label"], strict=True):
                encoded = vocabs.encode(tokens or ["<unk>"], chars=self.char_features)
                encoded.pop("starts")
                encoded["label"] = np.int64(labels.index(label))
                examples.append(encoded)
            self.splits[name] = examples
        self.vocabs = vocabs

    def _loader(self, split: str, train: bool) -> DataLoader:
        examples = self.splits[split]
        sampler = BucketBatchSampler([len(ex["words"]) for ex in examples],
                                     self.batch_size if train else self.eval_batch_size,
                                     shuffle=train, seed=self.seed)
        columns = ("words", "case", "label") + (("chars",) if self.char_features else ())
        width = self.text_options["max_length"] if self.pad_to_max_length else None
        return DataLoader(examples, batch_sampler=sampler, collate_fn=TaggingCollator(columns, width),
                          num_workers=self.num_workers, persistent_workers=self.num_workers > 0)
