"""The Lightning module of a sequence tagger: embedding -> encoder -> token head."""

from __future__ import annotations

import torch

from seqtag.models.base import PartConfig, SeqtagModule
from seqtag.registry import register
from seqtag.tasks import Task
from seqtag.tasks.scoring import SequenceScores
from seqtag.vocab import Vocabularies


@register("model", "tagger")
class SequenceTagger(SeqtagModule):
    """Tags every token; the head (softmax or CRF) is completed with the tag set and scheme.
    ``lm`` adds a language-model objective beside the tags (training only)."""

    def __init__(
        self, task: Task, vocabs: Vocabularies, embedding: PartConfig, encoder: PartConfig, head: PartConfig,
        optimizer: PartConfig | None = None, scheduler: PartConfig | None = None,
        scheduler_interval: str = "epoch", lm: PartConfig | None = None, source: dict | None = None,
        run_config: dict | None = None,
    ) -> None:
        super().__init__(task, vocabs, embedding, encoder, optimizer, scheduler, scheduler_interval, source,
                         run_config)
        self.head = self.add_part("head", head, input_size=self.encoder.output_dim, vocabs=vocabs)
        bidirectional = bool(getattr(self.encoder, "bidirectional", False))
        if lm is not None and bidirectional and getattr(self.encoder, "merge", "concat") != "concat":
            raise ValueError("model/lm needs each direction's states apart: model.encoder.merge=concat")
        self.lm = self.add_part("lm", lm, input_size=self.encoder.output_dim, words=vocabs.words.itos,
                                bidirectional=bidirectional)
        self.val_scores = SequenceScores(task.score_ids(vocabs))
        self.test_scores = SequenceScores(task.score_ids(vocabs))

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """Encoder features (B, T, H) for a padded batch."""
        return self.encoder(self.embedding(batch), batch["lengths"])

    def predict_batch(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """Tag ids (B, T); padded positions are to be read with ``batch["mask"]``."""
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


