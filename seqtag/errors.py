"""seqtag's errors, by kind: bad input data, a bad config value, a model that cannot be loaded.

Each names what is wrong and where (file and line, config key, model path), so the
command-line tools can end with one line instead of a traceback.
"""

from __future__ import annotations

from pathlib import Path


class SeqtagError(Exception):
    """Base class of every problem a user can fix."""


class DataError(SeqtagError):
    """Input data that cannot be used: files, lines, vectors."""



class CorpusFormatError(DataError):
    """A line of a corpus file cannot be read."""

    def __init__(self, path: str | Path, line: int | None, problem: str) -> None:
        self.path = str(path)
        self.line = line
        self.problem = problem
        where = f"{self.path}, line {line}" if line is not None else self.path
        super().__init__(f"{where}: {problem}")

    def __reduce__(self) -> tuple:
        # so the error survives a trip between processes (datasets workers, DDP ranks)
        return (type(self), (self.path, self.line, self.problem))


class DataNotFoundError(DataError):
    """The corpus files are not where the config says."""


class EmbeddingsNotFoundError(DataError):
    """Pretrained vectors (package or file) cannot be found."""


class ConfigError(SeqtagError, ValueError):
    """A config value that cannot work (an unknown option, a missing size)."""


class ModelLoadError(SeqtagError):
    """A path that should hold a saved seqtag model does not, or holds one this version cannot use."""
