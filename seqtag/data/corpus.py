"""Corpora on disk (or on the Hugging Face hub) as ``datasets`` splits of tokens and tags."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import datasets

from seqtag.data import conll
from seqtag.data.errors import CorpusFormatError, DataNotFoundError
from seqtag.data.schemes import check_scheme, tag_checker

log = logging.getLogger(__name__)
SPLITS = ("train", "validation", "test")
FEATURES = datasets.Features(
    {"tokens": datasets.Sequence(datasets.Value("string")),
     "tags": datasets.Sequence(datasets.Value("string")),
     "doc": datasets.Value("int32")}
)


def _generate(path: str, signature: tuple, reader: str, options: dict) -> Iterator[dict]:
    # ``signature`` (size, mtime) is unused here but part of the datasets cache
    # fingerprint, so an edited file is read again instead of served stale.
    del signature
    if reader == "conllu":
        sentences = conll.read_conllu(path, **options)
    else:
        options = dict(options)
        scheme = options.pop("scheme")
        sentences = conll.read_columns(path, tag_check=tag_checker(scheme), **options)
    empty = True
    for sentence in sentences:
        empty = False
        yield sentence
    if empty:
        # Raised here: a generator that yields nothing makes ``datasets`` fail with
        # a bare ValueError ("corresponds to no data") that names no file.
        raise CorpusFormatError(
            path, None, "no sentences found (only blank, comment or -DOCSTART- lines)"
        )


class Corpus:
    """Base: find the split files under ``root`` and read them into ``datasets.Dataset``s.

    When a file is missing and ``hub_id`` is set, the hub is tried (offline
    this fails with a clear message instead of a library traceback).
    """

    reader = "columns"

    def __init__(
        self, root: str, files: dict[str, str], scheme: str = "auto",
        hub_id: str | None = None, hub_tag_column: str = "ner_tags",
    ) -> None:
        self.root = Path(root).expanduser()
        self.files = dict(files)
        unknown = set(self.files) - set(SPLITS)
        if unknown or "train" not in self.files:
            raise ValueError(f"files must name a 'train' split and only {SPLITS}; got {self.files}")
        self.scheme = check_scheme(scheme, allow_auto=True)
        self.hub_id = hub_id
        self.hub_tag_column = hub_tag_column

    def paths(self) -> dict[str, Path]:
        return {split: self.root / name for split, name in self.files.items()}

    def _options(self) -> dict:
        raise NotImplementedError

    def load(self, cache_dir: str | None = None) -> datasets.DatasetDict:
        paths = self.paths()
        missing = [p for p in paths.values() if not p.is_file()]
        if missing:
            return self._load_from_hub(missing, cache_dir)
        splits = {}
        for split, path in paths.items():
            splits[split] = self._read_split(path, cache_dir)
        return datasets.DatasetDict(splits)

    def sentences(self, split: str) -> Iterator[dict]:
        """The sentences of one split file as read, tags unchecked (for scoring a
        model on data that may hold tags it never saw)."""
        path = self.paths().get(split)
        if path is None:
            raise DataNotFoundError(f"the corpus has no {split!r} split (files: {self.files})")
        if not path.is_file():
            raise DataNotFoundError(f"{path}: corpus file not found (set SEQTAG_DATA_DIR or --data-dir)")
        options = dict(self._options())
        if self.reader == "conllu":
            return conll.read_conllu(path, **options)
        options.pop("scheme")
        return conll.read_columns(path, **options)

    def _read_split(self, path: Path, cache_dir: str | None) -> datasets.Dataset:
        stat = path.stat()
        if stat.st_size == 0:
            raise CorpusFormatError(path, None, "the file is empty; every split needs sentences")
        try:
            dataset = datasets.Dataset.from_generator(
                _generate,
                features=FEATURES,
                cache_dir=cache_dir,
                gen_kwargs={
                    "path": str(path.resolve()),
                    "signature": (stat.st_size, stat.st_mtime_ns),
                    "reader": self.reader,
                    "options": self._options(),
                },
            )
        except datasets.exceptions.DatasetGenerationError as err:
            cause = err.__cause__ or err.__context__
            if isinstance(cause, CorpusFormatError):
                raise cause from None
            raise
        if len(dataset) == 0:
            raise CorpusFormatError(
                path, None, "no sentences found (only blank, comment or -DOCSTART- lines)"
            )
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
        return datasets.DatasetDict(
            {split: self._from_hub_split(hub[split]) for split in SPLITS if split in hub}
        )

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
                         remove_columns=split.column_names, features=FEATURES)


class ColumnCorpus(Corpus):
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

    def _options(self) -> dict:
        return {**self.columns, "scheme": self.scheme}


class ConlluCorpus(Corpus):
    """CoNLL-U treebanks tagged with UPOS or XPOS."""

    reader = "conllu"

    def __init__(
        self, root: str, files: dict[str, str], tag_field: str = "upos",
        hub_id: str | None = None, hub_tag_column: str = "upos",
    ) -> None:
        super().__init__(root, files, "none", hub_id, hub_tag_column)
        if tag_field not in conll.CONLLU_FIELDS:
            raise ValueError(f"tag_field must be one of {sorted(conll.CONLLU_FIELDS)}")
        self.tag_field = tag_field

    def _options(self) -> dict:
        return {"tag_field": self.tag_field}
