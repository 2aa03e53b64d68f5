"""Errors for bad input: each names the file (and line) and says what to do."""

from __future__ import annotations

from pathlib import Path


class SeqtagDataError(Exception):
    """Base class for data problems that a user can fix."""


class CorpusFormatError(SeqtagDataError):
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


class DataNotFoundError(SeqtagDataError):
    """The corpus files are not where the config says."""


class EmbeddingsNotFoundError(SeqtagDataError):
    """Pretrained vectors (package or file) cannot be found."""


class ModelLoadError(SeqtagDataError):
    """A path that should hold a saved seqtag model does not, or holds an incompatible one."""
