"""Corpora on disk (or on the Hugging Face hub) as ``datasets`` splits.

One reading path for every corpus: find the split files under ``root``, read each
with the corpus' reader (CoNLL columns, CoNLL-U, delimited text) through
``datasets`` (cached, keyed by the file's size and time), carve a validation split
when the corpus has none, and keep the first examples for quick runs. Readers raise
:class:`CorpusFormatError` with the file and line of anything they cannot read.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import datasets
import numpy as np

from seqtag.data import conll
from seqtag.data.labelled import read_labelled
from seqtag.data.phrases import split_by_sentence
from seqtag.errors import ConfigError, CorpusFormatError, DataNotFoundError
from seqtag.registry import name_of, register
from seqtag.schemes import check_scheme, tag_checker

log = logging.getLogger(__name__)
SPLITS = ("train", "validation", "test")
TAGGED = datasets.Features(
    {"tokens": datasets.Sequence(datasets.Value("string")),
     "tags": datasets.Sequence(datasets.Value("string")),
     "doc": datasets.Value("int32")}
)
NOTHING = "no sentences or documents found (only blank, comment, header or -DOCSTART- lines)"
LABELLED = datasets.Features({"text": datasets.Value("string"), "label": datasets.Value("string")})


def _rows(path: str, reader: str, options: dict) -> Iterator[dict]:
    if reader == "conllu":
        return conll.read_conllu(path, **options)
    if reader == "labelled":
        return read_labelled(path, **options)
    options = dict(options)
    scheme = options.pop("scheme")
    return conll.read_columns(path, tag_check=tag_checker(scheme), **options)


def _generate(path: str, signature: tuple, reader: str, options: dict) -> Iterator[dict]:
    # ``signature`` (size, mtime) is unused here but part of the datasets cache
    # fingerprint, so an edited file is read again instead of served stale.
    del signature
    empty = True
    for row in _rows(path, reader, options):
        empty = False
        yield row
    if empty:
        # Raised here: a generator that yields nothing makes ``datasets`` fail with
        # a bare ValueError ("corresponds to no data") that names no file.
        raise CorpusFormatError(path, None, NOTHING)


class Corpus:
    """Base: the split files under ``root`` (``files`` maps split -> file name).

    When a file is missing and ``hub_id`` is set, the hub is tried (offline
    this fails with a clear message instead of a library traceback).
    """

    reader = "columns"
    features = TAGGED

    def __init__(self, root: str, files: dict[str, str], hub_id: str | None = None) -> None:
        self.root = Path(root).expanduser()
        self.files = dict(files)
        unknown = set(self.files) - set(SPLITS)
        if unknown or "train" not in self.files:
            raise ConfigError(f"files must name a 'train' split and only {SPLITS}; got {self.files}")
        self.hub_id = hub_id

    def options(self) -> dict[str, Any]:
        """The constructor's arguments as plain values (saved with a model, for ``seqtag-eval``)."""
        return {"root": str(self.root), "files": dict(self.files), "hub_id": self.hub_id}

    def to_dict(self) -> dict[str, Any]:
        return {"type": name_of(type(self)), **self.options()}

    def path(self, split: str) -> Path:
        return self.root / self.files.get(split, split)

    def paths(self) -> dict[str, Path]:
        return {split: self.root / name for split, name in self.files.items()}

    def _reader_options(self) -> dict:
        raise NotImplementedError

    # -- reading ------------------------------------------------------------------------
    def splits(self, cache_dir: str | None = None, val_fraction: float = 0.1, split_seed: int = 0,
               val_split: str = "random", max_examples: int | None = None) -> datasets.DatasetDict:
        """Every split; without a validation file, ``val_fraction`` of the training
        examples (fixed by ``split_seed``, whatever the run's seed); ``max_examples``
        per split (quick runs, tests)."""
        raw = self.load(cache_dir)
        if "validation" not in raw:
            if not 0 < val_fraction < 1:
                raise ConfigError(f"val_fraction must be between 0 and 1, got {val_fraction}")
            raw = datasets.DatasetDict({**raw, **self.carve_validation(raw["train"], val_fraction, split_seed,
                                                                       val_split)})
        elif val_split != "random":
            raise ConfigError(f"val_split={val_split!r}: the corpus has its own validation file")
        return self.limit(raw, max_examples, split_seed) if max_examples is not None else raw

    def carve_validation(self, train: datasets.Dataset, fraction: float, seed: int, by: str,
                         ) -> dict[str, datasets.Dataset]:
        if by != "random":
            raise ConfigError(f"val_split must be 'random' for {type(self).__name__}, got {by!r}")
        if round(len(train) * fraction) < 1 or len(train) - round(len(train) * fraction) < 1:
            raise CorpusFormatError(self.path("train"), None, f"{len(train)} training examples are too few "
                                    f"to hold out val_fraction={fraction} of them for validation")
        parts = train.train_test_split(test_size=fraction, seed=seed)
        return {"train": parts["train"], "validation": parts["test"]}

    def limit(self, raw: datasets.DatasetDict, count: int, seed: int) -> datasets.DatasetDict:
        """The first ``count`` examples of each split (documents stay in order)."""
        return datasets.DatasetDict({k: v.select(range(min(count, len(v)))) for k, v in raw.items()})

    def load(self, cache_dir: str | None = None) -> datasets.DatasetDict:
        paths = self.paths()
        missing = [p for p in paths.values() if not p.is_file()]
        if missing:
            return self._load_from_hub(missing, cache_dir)
        return datasets.DatasetDict({split: self._read_split(path, cache_dir)
                                     for split, path in paths.items()})

    def _read_split(self, path: Path, cache_dir: str | None) -> datasets.Dataset:
        stat = path.stat()
        if stat.st_size == 0:
            raise CorpusFormatError(path, None, "the file is empty; every split needs examples")
        try:
            dataset = datasets.Dataset.from_generator(
                _generate, features=self.features, cache_dir=cache_dir,
                gen_kwargs={"path": str(path.resolve()), "signature": (stat.st_size, stat.st_mtime_ns),
                            "reader": self.reader, "options": self._reader_options()},
            )
        except datasets.exceptions.DatasetGenerationError as err:
            cause = err.__cause__ or err.__context__
            if isinstance(cause, CorpusFormatError):
                raise cause from None
            raise
        if len(dataset) == 0:
            raise CorpusFormatError(path, None, NOTHING)
        return dataset

    def _load_from_hub(self, missing: list[Path], cache_dir: str | None) -> datasets.DatasetDict:
        looked_for = "\n  ".join(str(p) for p in missing)
        advice = (
            f"Looked for:\n  {looked_for}\n"
            f"Put the corpus files there (one folder per corpus under the data directory), "
            f"or point seqtag at the folder that holds them: export SEQTAG_DATA_DIR=/path/to/data "
            f"or pass paths.data_dir=/path/to/data."
        )
        if not self.hub_id:
            raise DataNotFoundError(f"corpus files not found. {advice}")
        log.info("local files missing; trying the Hugging Face hub dataset %s", self.hub_id)
        try:
            hub = datasets.load_dataset(self.hub_id, cache_dir=cache_dir)
        except Exception as err:  # the hub raises many types; all mean "not available"
            reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            raise DataNotFoundError(
                f"corpus files not found, and the hub dataset {self.hub_id!r} could not be "
                f"loaded ({type(err).__name__}: {reason}). {advice}"
            ) from None
        return datasets.DatasetDict({split: self._from_hub_split(hub[split])
                                     for split in SPLITS if split in hub})

    def _from_hub_split(self, split: datasets.Dataset) -> datasets.Dataset:
        raise DataNotFoundError(f"{type(self).__name__} cannot read hub datasets")


class TaggedCorpus(Corpus):
    """Sentences of tokens and tags (``scheme``: their tag scheme, ``auto`` to detect IOB1/IOB2)."""

    def __init__(self, root: str, files: dict[str, str], scheme: str = "auto", hub_id: str | None = None,
                 hub_tag_column: str = "ner_tags") -> None:
        super().__init__(root, files, hub_id)
        self.scheme = check_scheme(scheme, allow_auto=True)
        self.hub_tag_column = hub_tag_column

    def options(self) -> dict[str, Any]:
        return {**super().options(), "scheme": self.scheme, "hub_tag_column": self.hub_tag_column}

    def carve_validation(self, train: datasets.Dataset, fraction: float, seed: int, by: str,
                         ) -> dict[str, datasets.Dataset]:
        """Whole documents held out (drawn with ``seed``), both splits in file order, so that
        document context (``context_tokens``) reads the same neighbours in training; a
        corpus of one document is cut by sentence."""
        if by != "random":
            raise ConfigError(f"val_split must be 'random' for {type(self).__name__}, got {by!r}")
        docs = np.asarray(train["doc"])
        units = np.unique(docs) if len(np.unique(docs)) > 1 else None
        count = len(units) if units is not None else len(train)
        held_count = round(count * fraction)
        if held_count < 1 or held_count >= count:
            raise CorpusFormatError(self.path("train"), None,
                                    f"{count} training {'documents' if units is not None else 'sentences'} "
                                    f"are too few to hold out val_fraction={fraction} of them for validation")
        drawn = np.random.default_rng(seed).permutation(count)[:held_count]
        held = np.isin(docs, units[drawn]) if units is not None else np.isin(np.arange(len(train)), drawn)
        return {"train": train.select(np.flatnonzero(~held)),
                "validation": train.select(np.flatnonzero(held))}

    def _from_hub_split(self, split: datasets.Dataset) -> datasets.Dataset:
        feature = split.features[self.hub_tag_column]
        names = feature.feature.names if hasattr(feature, "feature") else None

        def to_strings(batch: dict, indices: list[int]) -> dict:
            tags = batch[self.hub_tag_column]
            if names is not None:
                tags = [[names[t] for t in seq] for seq in tags]
            # hub copies carry no document boundaries: each sentence is its own document
            return {"tokens": batch["tokens"], "tags": tags, "doc": indices}

        return split.map(to_strings, batched=True, with_indices=True,
                         remove_columns=split.column_names, features=TAGGED)


@register("corpus", "column")
class ColumnCorpus(TaggedCorpus):
    """CoNLL column files (CoNLL-2000/2002/2003, WNUT-17, ...): name the token and tag columns."""

    def __init__(
        self, root: str, files: dict[str, str], token_column: int = 0, tag_column: int = -1,
        num_columns: int | None = None, separator: str | None = None,
        docstart: str = "-DOCSTART-", comment_prefix: str | None = None, scheme: str = "auto",
        hub_id: str | None = None, hub_tag_column: str = "ner_tags",
    ) -> None:
        super().__init__(root, files, scheme, hub_id, hub_tag_column)
        self.columns = {
            "token_column": token_column, "tag_column": tag_column, "num_columns": num_columns,
            "separator": separator, "docstart": docstart, "comment_prefix": comment_prefix,
        }

    def options(self) -> dict[str, Any]:
        return {**super().options(), **self.columns}

    def _reader_options(self) -> dict:
        return {**self.columns, "scheme": self.scheme}


@register("corpus", "conllu")
class ConlluCorpus(TaggedCorpus):
    """CoNLL-U treebanks tagged with UPOS or XPOS."""

    reader = "conllu"

    def __init__(
        self, root: str, files: dict[str, str], tag_field: str = "upos",
        hub_id: str | None = None, hub_tag_column: str = "upos",
    ) -> None:
        super().__init__(root, files, "none", hub_id, hub_tag_column)
        if tag_field not in conll.CONLLU_FIELDS:
            raise ConfigError(f"tag_field must be one of {sorted(conll.CONLLU_FIELDS)}")
        self.tag_field = tag_field

    def options(self) -> dict[str, Any]:
        return {"root": str(self.root), "files": dict(self.files), "tag_field": self.tag_field,
                "hub_id": self.hub_id, "hub_tag_column": self.hub_tag_column}

    def _reader_options(self) -> dict:
        return {"tag_field": self.tag_field}


@register("corpus", "labelled_text")
class LabelledTextCorpus(Corpus):
    """Labelled texts (IMDB reviews, SST-2 sentences) in delimited files with a header row.

    ``carve_validation(by="sentences")`` holds out whole sentences of treebank
    phrase data (SST-2) and leaves their phrases out of training
    (:mod:`seqtag.data.phrases`); a random cut keeps phrases of held-out sentences.
    """

    reader = "labelled"
    features = LABELLED

    def __init__(self, root: str, files: dict[str, str], text_column: str = "text",
                 label_column: str = "label",
                 delimiter: str = ",") -> None:
        super().__init__(root, files)
        self.columns = {"text_column": text_column, "label_column": label_column, "delimiter": delimiter}

    def options(self) -> dict[str, Any]:
        return {"root": str(self.root), "files": dict(self.files), **self.columns}

    def _reader_options(self) -> dict:
        return dict(self.columns)

    def carve_validation(self, train: datasets.Dataset, fraction: float, seed: int, by: str,
                         ) -> dict[str, datasets.Dataset]:
        if by not in ("random", "sentences"):
            raise ConfigError(f"val_split must be 'random' or 'sentences', got {by!r}")
        if by == "sentences":
            kept, held = split_by_sentence(train["text"], fraction, seed)
            log.info("validation: %d sentences held out; %d of %d training rows are not part of them",
                     len(held), len(kept), len(train))
            return {"train": train.select(kept), "validation": train.select(held)}
        return super().carve_validation(train, fraction, seed, by)

    def limit(self, raw: datasets.DatasetDict, count: int, seed: int) -> datasets.DatasetDict:
        """``count`` documents drawn at random (fixed by ``seed``) from each split."""
        return datasets.DatasetDict({k: v.shuffle(seed=seed).select(range(min(count, len(v))))
                                     for k, v in raw.items()})
