"""What every seqtag model shares: parts built from configs, the optimizer, exact
resumes, saving and loading itself, and per-epoch score logging."""

from __future__ import annotations

import logging
import random
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import hydra
import lightning as L
import numpy as np
import torch
from hydra.errors import InstantiationException
from omegaconf import DictConfig, OmegaConf
from torch import nn
from torchmetrics import MaxMetric

from seqtag import __version__, saved_model
from seqtag.errors import ModelLoadError
from seqtag.registry import lookup, name_of, to_names, to_targets
from seqtag.tasks import Task
from seqtag.vocab import Vocabularies

log = logging.getLogger(__name__)
PartConfig = Mapping[str, Any]


def plain(config: PartConfig | DictConfig | None) -> dict | None:
    """A part config as plain values (Hydra hands over ``DictConfig`` nodes)."""
    if config is None:
        return None
    if isinstance(config, DictConfig):
        return OmegaConf.to_container(config, resolve=True)
    return dict(config)


def build(config: dict, **context: Any) -> nn.Module:
    """A part from its config (``_target_`` from Hydra, or ``type`` from a saved model),
    completed with what only the model knows (``context``: widths, vocabularies)."""
    if "type" in config:
        config = to_targets(config)
    return hydra.utils.instantiate({**config, "_partial_": True})(**context)


class SeqtagModule(L.LightningModule):
    """Embedding -> encoder -> (a subclass's head), for ``task`` over ``vocabs``.

    Parts arrive as configs and are built here, in order, with each part's input
    width; the model keeps the configs, so it can save itself
    (:meth:`save`, :meth:`load`) without anyone setting attributes afterwards.
    ``optimizer`` / ``scheduler`` are ``_partial_`` configs completed with the
    parameters (not needed to predict). ``source`` says where the training data
    came from (``seqtag-eval`` reads a split through it); ``run_config`` is the
    composed config of the run that trained it, kept for the record.
    """

    def __init__(
        self, task: Task, vocabs: Vocabularies, embedding: PartConfig, encoder: PartConfig,
        optimizer: PartConfig | None = None, scheduler: PartConfig | None = None,
        scheduler_interval: str = "epoch", source: dict | None = None, run_config: dict | None = None,
    ) -> None:
        super().__init__()
        # Not save_hyperparameters(): that would pickle these objects into every
        # checkpoint. Checkpoints carry a plain record instead (on_save_checkpoint).
        self.task = task
        self.vocabs = vocabs
        self.part_configs: dict[str, dict] = {}
        self.optimizer_config = plain(optimizer)
        self.scheduler_config = plain(scheduler)
        self.scheduler_interval = scheduler_interval
        self.source = source
        self.run_config = run_config
        self._seed = torch.initial_seed() % 2**32  # set by seed_everything before the model is built
        self.embedding = self.add_part("embedding", embedding, vocabs=vocabs)
        self.encoder = self.add_part("encoder", encoder, input_size=self.embedding.output_dim)
        self.metric_name = task.metric
        self.val_best = MaxMetric()
        self.val_best.persistent(True)  # the best score so far survives a resume
        self.reports: dict[str, str] = {}

    def add_part(self, name: str, config: PartConfig | None, **context: Any) -> nn.Module | None:
        config = plain(config)
        if config is None:
            return None
        self.part_configs[name] = config
        return build(config, **context)

    # -- persistence -----------------------------------------------------------------------
    def record(self, with_weights: bool = True) -> dict[str, Any]:
        """What :meth:`save` writes (``with_weights=False``: all but the weights, for checkpoints)."""
        model = {"type": name_of(type(self))}
        for name, config in self.part_configs.items():
            part = getattr(self, name)
            portable = part.saved_config(config) if hasattr(part, "saved_config") else config
            model[name] = to_names(portable)
        record = {"model": model, "task": self.task.to_dict(), "vocabs": self.vocabs.to_dict(),
                  "source": self.source, "run_config": self.run_config}
        if with_weights:
            record["state_dict"] = {k: v.detach().cpu() for k, v in self.state_dict().items()}
        return record

    def save(self, path: str | Path) -> Path:
        """Write the model (weights, parts, task, vocabularies) to one file."""
        return saved_model.write(self.record(), path)

    @classmethod
    def load(cls, path: str | Path) -> SeqtagModule:
        """The model saved at ``path`` (``model.pt``, a checkpoint or a run directory), in eval mode."""
        return cls.from_record(saved_model.read(path))

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> SeqtagModule:
        where = f"{record.get('path', 'the model')} (seqtag {record.get('seqtag_version', '?')})"
        try:
            config = dict(record["model"])
            kind = lookup("model", config.pop("type"))
            if not issubclass(kind, cls):
                raise ModelLoadError(f"{where}: a {kind.__name__}, not a {cls.__name__}")
            model = kind(task=Task.from_dict(record["task"]), vocabs=Vocabularies.from_dict(record["vocabs"]),
                         source=record.get("source"), run_config=record.get("run_config"), **config)
        except (InstantiationException, KeyError, TypeError, ValueError) as err:
            raise ModelLoadError(f"{where}: this seqtag ({__version__}) cannot rebuild the model: "
                                 f"{str(err).splitlines()[0]}") from None
        try:
            model.load_state_dict(record["state_dict"])
        except RuntimeError as err:
            detail = " ".join(str(err).split())[:300]
            raise ModelLoadError(f"{where}: the weights do not fit this seqtag's ({__version__}) model: "
                                 f"{detail}") from None
        return model.eval()

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        checkpoint["seqtag"] = {"format": saved_model.FORMAT, "format_version": saved_model.FORMAT_VERSION,
                                "seqtag_version": __version__, **self.record(with_weights=False)}

    # -- training ----------------------------------------------------------------------------
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

    def predict_batch(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """The rows the task turns into results (tag ids, label probabilities)."""
        raise NotImplementedError

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
        if self.optimizer_config is None:
            raise ModelLoadError("this model was built without an optimizer config: "
                                 "it can predict, not train")
        params = [p for p in self.parameters() if p.requires_grad]
        optimizer = hydra.utils.instantiate({**self.optimizer_config, "_partial_": True})(params=params)
        if self.scheduler_config is None:
            return optimizer
        return {
            "optimizer": optimizer,
            "lr_scheduler": {
                "scheduler": hydra.utils.instantiate({**self.scheduler_config, "_partial_": True})(
                    optimizer=optimizer),
                "monitor": f"val/{self.metric_name}",
                "interval": self.scheduler_interval,
            },
        }
