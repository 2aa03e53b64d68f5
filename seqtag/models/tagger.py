"""The Lightning module of a sequence tagger: embedding -> encoder -> token head."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from seqtag.data.datamodule import Vocabularies
from seqtag.metrics import scores_for
from seqtag.models.base import SeqtagModule


class SequenceTagger(SeqtagModule):
    """Tags every token; the head (softmax or CRF) is completed with the tag set and scheme."""

    def __init__(
        self,
        vocabs: Vocabularies,
        embedding: Callable[..., nn.Module],
        encoder: Callable[..., nn.Module],
        head: Callable[..., nn.Module],
        optimizer: Callable[..., torch.optim.Optimizer],
        scheduler: Callable[..., Any] | None = None,
        scheduler_interval: str = "epoch",
        lm: Callable[..., nn.Module] | None = None,
    ) -> None:
        super().__init__(vocabs, embedding, encoder, optimizer, scheduler, scheduler_interval)
        self.head = head(input_size=self.encoder.output_dim, vocabs=vocabs)
        self.lm = None
        if lm is not None:
            bidirectional = bool(getattr(self.encoder, "bidirectional", False))
            if bidirectional and getattr(self.encoder, "merge", "concat") != "concat":
                raise ValueError("model/lm needs each direction's states apart: model.encoder.merge=concat")
            self.lm = lm(input_size=self.encoder.output_dim, words=vocabs.words.itos,
                         bidirectional=bidirectional)
        self.metric_name = "f1" if vocabs.task == "entity" else "acc"
        self.val_scores = scores_for(vocabs.task, vocabs.tags, vocabs.scheme)
        self.test_scores = scores_for(vocabs.task, vocabs.tags, vocabs.scheme)

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """Encoder features (B, T, H) for a padded batch."""
        return self.encoder(self.embedding(batch), batch["lengths"])

    def predict_tags(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        return self.head.decode(self(batch), batch["mask"])

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        features = self(batch)
        loss = self.head.loss(features, batch["tags"], batch["mask"])
        if self.lm is not None:
            lm_loss = self.lm(features, batch["words"], batch["mask"])
            self.log("train/lm_loss", lm_loss, on_epoch=True, batch_size=batch["lengths"].numel())
            loss = loss + lm_loss
        # not on the progress bar: showing it would copy the loss to the host every step
        self.log("train/loss", loss, on_step=True, on_epoch=True, batch_size=batch["lengths"].numel())
        return loss

    def _eval_step(self, batch: dict[str, torch.Tensor], stage: str) -> None:
        features = self(batch)
        loss = self.head.loss(features, batch["tags"], batch["mask"])
        self.log(f"{stage}/loss", loss, on_epoch=True, batch_size=batch["lengths"].numel())
        scores = self.val_scores if stage == "val" else self.test_scores
        scores.update(self.head.decode(features, batch["mask"]), batch["tags"], batch["mask"],
                      batch.get("starts"))

    def validation_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        self._eval_step(batch, "val")

    def test_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        self._eval_step(batch, "test")

    def _eval_epoch_end(self, stage: str) -> None:
        scores = self.val_scores if stage == "val" else self.test_scores
        values = scores.compute()
        self.reports[stage] = scores.last_report
        scores.reset()
        self.log_scores(stage, values)

    def on_validation_epoch_end(self) -> None:
        self._eval_epoch_end("val")

    def on_test_epoch_end(self) -> None:
        self._eval_epoch_end("test")
