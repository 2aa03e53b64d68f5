"""What every seqtag model shares: parts from partials, the optimizer, exact resumes,
a plain record in checkpoints, and per-epoch score logging."""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from typing import Any

import lightning as L
import numpy as np
import torch
from torch import nn
from torchmetrics import MaxMetric

from seqtag.data.datamodule import Vocabularies

log = logging.getLogger(__name__)


class SeqtagModule(L.LightningModule):
    """Embedding -> encoder -> (a subclass's head). The parts arrive as partials
    (Hydra ``_partial_: true``) and are completed here with what only the data
    knows (vocabularies) and each part's input width.
    """

    metric_name = "acc"

    def __init__(
        self,
        vocabs: Vocabularies,
        embedding: Callable[..., nn.Module],
        encoder: Callable[..., nn.Module],
        optimizer: Callable[..., torch.optim.Optimizer],
        scheduler: Callable[..., Any] | None = None,
        scheduler_interval: str = "epoch",
    ) -> None:
        super().__init__()
        # Not save_hyperparameters(): that would pickle these objects into every
        # checkpoint. Checkpoints carry a plain record instead (on_save_checkpoint).
        self.optimizer_factory = optimizer
        self.scheduler_factory = scheduler
        self.scheduler_interval = scheduler_interval
        self.model_config: dict | None = None  # set by whoever composed the model (seqtag-train)
        self.run_config: dict | None = None
        self.context_tokens = 0
        self.text_options: dict = {}  # how documents were tokenised (classification)
        self._seed = torch.initial_seed() % 2**32  # set by seed_everything before the model is built
        self.vocabs = vocabs
        self.embedding = embedding(vocabs=vocabs)
        self.encoder = encoder(input_size=self.embedding.output_dim)
        self.val_best = MaxMetric()
        self.val_best.persistent(True)  # the best score so far survives a resume
        self.reports: dict[str, str] = {}

    def transfer_batch_to_device(self, batch: dict, device: torch.device, dataloader_idx: int) -> dict:
        # ``lengths`` stays on the CPU: packing reads it there, and a copy back
        # from the GPU would stall every step.
        return {k: v if k == "lengths" else v.to(device, non_blocking=True) for k, v in batch.items()}

    def on_train_batch_start(self, batch: dict, batch_idx: int) -> None:
        if batch_idx != 0:
            return
        # Each epoch's random draws (dropout, word dropout) follow from the run's
        # seed and the epoch alone, so a run resumed from an epoch's checkpoint
        # continues exactly as one never interrupted. Saving generator states
        # would not do: on a restart Lightning draws from them (creating data
        # loader iterators) at other moments than in an uninterrupted run.
        seed = int(np.random.SeedSequence([self._seed, self.current_epoch]).generate_state(1)[0])
        torch.manual_seed(seed)
        np.random.seed(seed)
        random.seed(seed)

    def log_scores(self, stage: str, values: dict[str, torch.Tensor]) -> None:
        """Log a stage's scores; after validation, also the best so far."""
        self.log_dict({f"{stage}/{k}": v for k, v in values.items()}, prog_bar=False)
        if self.trainer.sanity_checking:
            return
        summary = " ".join(f"{stage}/{k}={v.item():.4f}" for k, v in values.items() if "_" not in k)
        fitting = self.trainer.state.fn == "fit"
        log.info("%s: %s", f"epoch {self.current_epoch}" if fitting else "checkpoint", summary)
        if stage == "val":
            self.val_best(values[self.metric_name])
            self.log(f"val/{self.metric_name}_best", self.val_best.compute(), prog_bar=True)

    def configure_optimizers(self) -> Any:
        optimizer = self.optimizer_factory(params=[p for p in self.parameters() if p.requires_grad])
        if self.scheduler_factory is None:
            return optimizer
        return {
            "optimizer": optimizer,
            "lr_scheduler": {
                "scheduler": self.scheduler_factory(optimizer=optimizer),
                "monitor": f"val/{self.metric_name}",
                "interval": self.scheduler_interval,
            },
        }

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        from seqtag.saved_model import model_record  # here: saved_model imports the models

        if self.model_config is not None:
            checkpoint["seqtag"] = model_record(self, with_weights=False)
