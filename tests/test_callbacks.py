"""The EMA callback: validation, checkpoints and later test runs all see the averaged weights."""

from __future__ import annotations

from pathlib import Path

import lightning as L
import pytest
import torch
from lightning.pytorch.callbacks import ModelCheckpoint
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from seqtag.callbacks import EMA


class Scalar(L.LightningModule):
    """One weight pulled towards 1 by SGD; each stage logs the weight it sees."""

    def __init__(self) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.zeros(1))

    def training_step(self, batch, batch_idx):
        return ((self.w - 1.0) ** 2).sum() + 0 * batch[0].sum()

    def validation_step(self, batch, batch_idx):
        self.log("val/w", self.w.detach().sum())

    def test_step(self, batch, batch_idx):
        self.log("test/w", self.w.detach().sum())

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)


def _loader() -> DataLoader:
    return DataLoader(TensorDataset(torch.zeros(8, 1)), batch_size=1)


def _trainer(tmp_path: Path, *callbacks: L.Callback) -> L.Trainer:
    return L.Trainer(max_epochs=2, callbacks=list(callbacks), logger=False, enable_progress_bar=False,
                     enable_model_summary=False, num_sanity_val_steps=0, default_root_dir=tmp_path)


def test_ema_checkpoint_and_later_test_use_the_average(tmp_path: Path):
    checkpoint = ModelCheckpoint(dirpath=tmp_path, monitor="val/w", mode="max")
    model = Scalar()
    trainer = _trainer(tmp_path, EMA(decay=0.5), checkpoint)
    trainer.fit(model, train_dataloaders=_loader(), val_dataloaders=_loader())
    validated = float(trainer.callback_metrics["val/w"])

    saved = torch.load(checkpoint.best_model_path, weights_only=True)
    average, raw = float(saved["state_dict"]["w"]), float(saved["current_model_state"]["w"])
    assert average == pytest.approx(validated)
    assert average < raw < 1.0  # the average lags the raw weight on its way to 1

    result = trainer.test(model, dataloaders=_loader(), ckpt_path=checkpoint.best_model_path,
                          weights_only=True)
    assert result[0]["test/w"] == pytest.approx(average)
    assert float(model.w.detach()) == pytest.approx(average)  # what is saved as the model afterwards


def test_ema_run_resumed_from_its_last_checkpoint_ends_like_an_unbroken_one(tmp_path: Path):
    unbroken = Scalar()
    _trainer(tmp_path / "a", EMA(decay=0.5)).fit(unbroken, _loader(), _loader())

    last = ModelCheckpoint(dirpath=tmp_path / "b", filename="last")
    first = _trainer(tmp_path / "b", EMA(decay=0.5), last)
    first.fit_loop.max_epochs = 1
    first.fit(Scalar(), _loader(), _loader())
    resumed = Scalar()
    _trainer(tmp_path / "b", EMA(decay=0.5)).fit(resumed, _loader(), _loader(),
                                                 ckpt_path=last.best_model_path, weights_only=True)
    # the raw weight and the average both came back: the result is the unbroken run's, to the bit
    assert float(resumed.w.detach()) == float(unbroken.w.detach())
