"""The Lightning module of a sequence classifier (e.g. sentiment): the tagger's
embedding and encoder, with a pooling head instead of a token head."""

from __future__ import annotations

import torch
from torch import nn

from seqtag.models.base import PartConfig, SeqtagModule
from seqtag.registry import register
from seqtag.tasks import Task
from seqtag.tasks.scoring import SequenceScores
from seqtag.vocab import Vocabularies


@register("model", "classifier")
class SequenceClassifier(SeqtagModule):
    """One label per document, from the pooled encoder states."""

    def __init__(
        self, task: Task, vocabs: Vocabularies, embedding: PartConfig, encoder: PartConfig, head: PartConfig,
        optimizer: PartConfig | None = None, scheduler: PartConfig | None = None,
        scheduler_interval: str = "epoch", source: dict | None = None, run_config: dict | None = None,
    ) -> None:
        super().__init__(task, vocabs, embedding, encoder, optimizer, scheduler, scheduler_interval, source,
                         run_config)
        self.head = self.add_part("head", head, input_size=self.encoder.output_dim, vocabs=vocabs)
        self.scores = nn.ModuleDict({f"{stage}_scores": SequenceScores(task.score_ids(vocabs))
                                     for stage in ("train", "val", "test")})

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """Label logits (B, labels)."""
        features, final = self.encoder(self.embedding(batch), batch["lengths"], return_final=True)
        return self.head(features, batch["mask"], final)

    def predict_batch(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """Label probabilities (B, labels)."""
        return self(batch).softmax(-1)

    def _step(self, batch: dict[str, torch.Tensor], stage: str) -> torch.Tensor:
        logits = self(batch)
        loss = self.head.loss(logits, batch["label"])
        self.log(f"{stage}/loss", loss, on_step=stage == "train", on_epoch=True,
                 batch_size=batch["lengths"].numel())
        one = torch.ones_like(batch["label"], dtype=torch.bool)[:, None]
        self.scores[f"{stage}_scores"].update(logits.argmax(-1)[:, None], batch["label"][:, None], one)
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
