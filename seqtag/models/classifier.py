"""The Lightning module of a sequence classifier (e.g. sentiment): the tagger's
embedding and encoder, with a pooling head instead of a token head."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from seqtag.data.datamodule import Vocabularies
from seqtag.metrics import ClassificationScores
from seqtag.models.base import SeqtagModule


class SequenceClassifier(SeqtagModule):
    """One label per document. ``positive`` names the label whose F1 is reported."""

    metric_name = "acc"

    def __init__(
        self,
        vocabs: Vocabularies,
        embedding: Callable[..., nn.Module],
        encoder: Callable[..., nn.Module],
        head: Callable[..., nn.Module],
        optimizer: Callable[..., torch.optim.Optimizer],
        scheduler: Callable[..., Any] | None = None,
        scheduler_interval: str = "epoch",
        positive: str | None = None,
    ) -> None:
        super().__init__(vocabs, embedding, encoder, optimizer, scheduler, scheduler_interval)
        self.head = head(input_size=self.encoder.output_dim, vocabs=vocabs)
        stages = ("train", "val", "test")
        self.scores = nn.ModuleDict(
            {f"{stage}_scores": ClassificationScores(vocabs.tags, positive) for stage in stages})

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """Label logits (B, labels)."""
        features, final = self.encoder(self.embedding(batch), batch["lengths"], return_final=True)
        return self.head(features, batch["mask"], final)

    def predict_labels(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """Label probabilities (B, labels)."""
        return self(batch).softmax(-1)

    def _step(self, batch: dict[str, torch.Tensor], stage: str) -> torch.Tensor:
        logits = self(batch)
        loss = self.head.loss(logits, batch["label"])
        self.log(f"{stage}/loss", loss, on_step=stage == "train", on_epoch=True,
                 batch_size=batch["lengths"].numel())
        self.scores[f"{stage}_scores"].update(logits.argmax(-1), batch["label"])
        return loss

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        return self._step(batch, "train")

    def validation_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        self._step(batch, "val")

    def test_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        self._step(batch, "test")

    def _epoch_end(self, stage: str) -> None:
        values = self.scores[f"{stage}_scores"].compute()
        self.reports[stage] = self.scores[f"{stage}_scores"].last_report
        self.scores[f"{stage}_scores"].reset()
        self.log_scores(stage, values)

    def on_train_epoch_end(self) -> None:
        self._epoch_end("train")

    def on_validation_epoch_end(self) -> None:
        self._epoch_end("val")

    def on_test_epoch_end(self) -> None:
        self._epoch_end("test")
