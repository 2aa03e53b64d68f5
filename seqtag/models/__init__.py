"""Embedding, encoder and head parts, and the Lightning modules that tie them together.

Importing this package registers every part and model under its saved name."""

from seqtag.models import char_encoders, embeddings, encoders, heads, lm_objective, pooling  # noqa: F401
from seqtag.models.base import SeqtagModule
from seqtag.models.classifier import SequenceClassifier
from seqtag.models.tagger import SequenceTagger

__all__ = ["SeqtagModule", "SequenceClassifier", "SequenceTagger"]
