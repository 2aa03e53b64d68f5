"""Word embeddings: random, or initialised from pretrained vectors; frozen or fine-tuned."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable

import torch
from torch import nn

from seqtag.casing import CASES
from seqtag.data.vectors import PretrainedVectors
from seqtag.models.dropout import Dropout
from seqtag.registry import register
from seqtag.vocab import UNK, Vocabularies

log = logging.getLogger(__name__)


@register("part", "word_embedding")
class WordEmbedding(nn.Module):
    """Embeds word indices; rows of words with a pretrained vector start from it.

    ``dim`` may be left ``None`` with ``vectors`` (it is the vectors' width).
    ``freeze`` keeps every row fixed; words without a vector then stay at their
    random start, which is why fine-tuning is the default. ``casing_dim > 0``
    appends an embedding of the word's shape (capitalised, upper, numeric, ...),
    which lowercased vectors such as GloVe 6B cannot tell apart.
    ``word_dropout`` replaces that share of training tokens by ``<unk>``, so the
    unknown-word vector is trained for the unseen words of test data.
    ``chars`` (a partial of :mod:`seqtag.models.char_encoders`) appends a
    character-level vector of each word. ``extra_vectors`` appends a second table
    initialised from another set of vectors (e.g. GloVe beside word2vec trained on
    the task's own text); ``extra_dim`` is its width when it is rebuilt without them.
    ``extra_freeze`` (default: as ``freeze``) lets one table be frozen and the other
    fine-tuned: the same vectors in both give Kim's (2014) static and non-static
    channels, where a test word never seen in training still matches its neighbours
    in the frozen one.
    """

    def __init__(
        self, vocabs: Vocabularies, dim: int | None = None,
        vectors: PretrainedVectors | None = None, freeze: bool = False, dropout: float = 0.0,
        casing_dim: int = 0, word_dropout: float = 0.0, chars: Callable[..., nn.Module] | None = None,
        extra_vectors: PretrainedVectors | None = None, extra_dim: int | None = None,
        extra_freeze: bool | None = None,
    ) -> None:
        super().__init__()
        if vectors is None and dim is None:
            raise ValueError("set the embedding dim, or give pretrained vectors")
        if vectors is not None and dim is not None and dim != vectors.dim:
            raise ValueError(f"dim={dim} but the pretrained vectors have {vectors.dim} dimensions")
        dim = dim or vectors.dim
        weight, self.coverage = _table(vocabs.words.itos, dim, vectors)
        self.embedding = nn.Embedding.from_pretrained(weight, freeze=freeze, padding_idx=0)
        self.extra = None
        if extra_vectors is not None or extra_dim is not None:
            if extra_vectors is not None and extra_dim is not None and extra_dim != extra_vectors.dim:
                raise ValueError(f"extra_dim={extra_dim} but the extra vectors have {extra_vectors.dim}")
            extra_dim = extra_dim or extra_vectors.dim
            extra, _ = _table(vocabs.words.itos, extra_dim, extra_vectors)
            extra_freeze = freeze if extra_freeze is None else extra_freeze
            self.extra = nn.Embedding.from_pretrained(extra, freeze=extra_freeze, padding_idx=0)
            dim += extra_dim
        self.casing = nn.Embedding(len(CASES), casing_dim, padding_idx=0) if casing_dim else None
        self.dropout = Dropout(dropout)
        self.word_dropout = word_dropout
        self.unk_index = vocabs.words.index(UNK)
        self.chars = chars(num_chars=len(vocabs.chars)) if chars is not None else None
        self.output_dim = dim + casing_dim + (self.chars.output_dim if self.chars is not None else 0)

    def saved_config(self, config: dict) -> dict:
        """``config`` without pretrained vectors: the saved weights hold them, and loading
        must not need their package or file."""
        config = dict(config)
        if config.get("vectors") is not None:
            config["vectors"], config["dim"] = None, int(self.embedding.embedding_dim)
        if config.get("extra_vectors") is not None:
            config["extra_vectors"], config["extra_dim"] = None, int(self.extra.embedding_dim)
        return config

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        words = batch["words"]
        if self.training and self.word_dropout > 0:
            drop = (torch.rand(words.shape, device=words.device) < self.word_dropout) & (words != 0)
            words = words.masked_fill(drop, self.unk_index)
        parts = [self.embedding(words)]
        if self.extra is not None:
            parts.append(self.extra(words))
        if self.casing is not None:
            parts.append(self.casing(batch["case"]))
        if self.chars is not None:
            parts.append(self.chars(batch["chars"], batch.get("chars_table")))
        return self.dropout(torch.cat(parts, dim=-1) if len(parts) > 1 else parts[0])


def _table(words: list[str], dim: int, vectors: PretrainedVectors | None) -> tuple[torch.Tensor, float]:
    """An embedding matrix for ``words``: pretrained rows where the vectors have the word,
    uniform random elsewhere, zeros for padding; and the share of words covered."""
    weight = torch.empty(len(words), dim)
    bound = math.sqrt(3.0 / dim)
    nn.init.uniform_(weight, -bound, bound)
    coverage = 0.0
    if vectors is not None:
        rows, hits = [], []
        for index, word in enumerate(words):
            row = vectors.lookup(word)
            if row is not None:
                rows.append(row)
                hits.append(index)
        if hits:
            weight[hits] = torch.from_numpy(vectors.matrix[rows]).float()
        coverage = len(hits) / max(1, len(words) - 2)
        log.info("pretrained vectors cover %d of %d words (%.1f%%)",
                 len(hits), len(words) - 2, 100 * coverage)
    weight[0] = 0.0
    return weight, coverage
