"""Callbacks: speed figures and score reports a run leaves behind, and weight averaging."""

from __future__ import annotations

import json
import resource
import time
from pathlib import Path
from typing import Any

import lightning as L
import torch
from lightning.pytorch.callbacks import EMAWeightAveraging
from lightning.pytorch.utilities import rank_zero_only


class Throughput(L.Callback):
    """Logs seconds per epoch, training tokens per second and peak memory.

    Tokens are counted from ``batch["lengths"]``, which stays on the CPU, so
    counting costs no device sync. Each epoch is also appended to
    ``<dirpath>/throughput.json`` for benchmarks.
    """

    def __init__(self, dirpath: str) -> None:
        self.dirpath = Path(dirpath)
        self.records: list[dict[str, float]] = []
        self._start = 0.0
        self._tokens = 0

    def on_train_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._tokens = 0
        self._start = time.perf_counter()

    def on_train_batch_end(
        self, trainer: L.Trainer, pl_module: L.LightningModule, outputs: Any, batch: Any,
        batch_idx: int,
    ) -> None:
        self._tokens += int(batch["lengths"].sum())

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if torch.cuda.is_available() and pl_module.device.type == "cuda":
            torch.cuda.synchronize(pl_module.device)
        seconds = time.perf_counter() - self._start
        record = {
            "epoch": trainer.current_epoch,
            "epoch_seconds": seconds,
            "tokens_per_second": self._tokens / max(seconds, 1e-9),
            "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "torch_threads": torch.get_num_threads(),
        }
        if pl_module.device.type == "cuda":
            record["peak_gpu_mib"] = torch.cuda.max_memory_allocated(pl_module.device) / 2**20
        self.records.append(record)
        pl_module.log_dict({f"perf/{k}": float(v) for k, v in record.items()
                           if k not in ("epoch", "torch_threads")})
        self._write()

    @rank_zero_only
    def _write(self) -> None:
        self.dirpath.mkdir(parents=True, exist_ok=True)
        (self.dirpath / "throughput.json").write_text(json.dumps(self.records, indent=2))


class ScoreReports(L.Callback):
    """Saves the full score report (seqeval's for entity tasks) of each validate/test run."""

    def __init__(self, dirpath: str) -> None:
        self.dirpath = Path(dirpath)

    @rank_zero_only
    def _write(self, pl_module: L.LightningModule, stage: str) -> None:
        report = getattr(pl_module, "reports", {}).get(stage)
        if report:
            self.dirpath.mkdir(parents=True, exist_ok=True)
            (self.dirpath / f"{stage}_report.txt").write_text(report)

    def on_validation_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if not trainer.sanity_checking:
            self._write(pl_module, "val")

    def on_test_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._write(pl_module, "test")


class EMA(EMAWeightAveraging):
    """An exponential moving average of the weights, validated, checkpointed and tested.

    Lightning's callback validates and checkpoints the average during fit. It
    keeps its average after fit, though, and the test run that loads the best
    checkpoint would then take the raw weights saved beside the average. Ending
    the average with fit makes every later run load the checkpoint's
    ``state_dict``, which is the average.
    """

    def teardown(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        if stage == "fit":
            self._average_model = None

    def on_load_checkpoint(
        self, trainer: L.Trainer, pl_module: L.LightningModule, checkpoint: dict[str, Any]
    ) -> None:
        if self._average_model is not None:  # resuming fit: restore the average and the raw weights
            super().on_load_checkpoint(trainer, pl_module, checkpoint)
