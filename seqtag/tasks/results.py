"""What a model's predictions become: sentences with tags and entities, documents with labels."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


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
class Sentence:
    """One sentence's tokens and tags (IOB2 for entity models), and its entities."""

    tokens: list[str]
    tags: list[str]
    entities: list[Entity] = field(default_factory=list)
    text: str | None = None

    @property
    def labels(self) -> list[str]:
        """What is scored: the tags."""
        return self.tags

    def to_conll(self) -> str:
        """``token<TAB>tag`` lines and a blank line."""
        return "".join(f"{token}\t{tag}\n" for token, tag in zip(self.tokens, self.tags, strict=True)) + "\n"

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Document:
    """One document's label, the probability of every label, and the tokens the model read."""

    label: str
    scores: dict[str, float]
    tokens: list[str]
    text: str | None = None

    @property
    def labels(self) -> list[str]:
        """What is scored: the one label."""
        return [self.label]

    def to_conll(self) -> str:
        """A ``label<TAB>probability`` line."""
        return f"{self.label}\t{self.scores[self.label]:.4f}\n"

    def to_dict(self) -> dict:
        return asdict(self)
