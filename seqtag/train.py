"""``seqtag-train``: compose the config, build data and model, fit, then score the best checkpoint."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import hydra
import lightning as L
from hydra.errors import InstantiationException
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.loggers import TensorBoardLogger
from lightning.pytorch.utilities import rank_zero_only
from omegaconf import DictConfig, OmegaConf

from seqtag import saved_model
from seqtag.configs import CONFIG_PATH
from seqtag.data.datamodule import DataModule
from seqtag.data.vectors import PretrainedVectors
from seqtag.errors import ModelLoadError, SeqtagError
from seqtag.models import SeqtagModule
from seqtag.warm_start import warm_start

log = logging.getLogger(__name__)


def _instantiate_all(group: DictConfig | None) -> list:
    return [hydra.utils.instantiate(c) for c in (group or {}).values() if c and "_target_" in c]


@rank_zero_only
def _save(output_dir: Path, metrics: dict[str, float], cfg: DictConfig, trainer: L.Trainer) -> None:
    (output_dir / "metrics.json").write_text(json.dumps(metrics, indent=2, sort_keys=True))
    params = OmegaConf.to_container(cfg, resolve=True)
    hp = {f"hp/{k.replace('/', '_')}": v for k, v in metrics.items()
          if k.startswith(("val/", "test/")) and "/loss" not in k}
    for logger in trainer.loggers:
        if isinstance(logger, TensorBoardLogger):
            logger.log_hyperparams(params, metrics=hp)
        else:
            logger.log_hyperparams(params)
        logger.finalize("success")


def _run_config(cfg: DictConfig) -> dict:
    try:
        return OmegaConf.to_container(cfg, resolve=True)
    except Exception:  # e.g. ${hydra:...} when composed outside a Hydra run
        return OmegaConf.to_container(cfg, resolve=False)


def _resume_path(cfg: DictConfig) -> str | None:
    if cfg.get("ckpt_path"):
        path = Path(cfg.ckpt_path)
        if not path.is_file():
            raise ModelLoadError(f"ckpt_path={cfg.ckpt_path}: no such checkpoint file")
        return str(path)
    if cfg.get("resume"):
        last = Path(cfg.paths.output_dir) / "checkpoints" / "last.ckpt"
        if last.is_file():
            log.info("resuming from %s", last)
            return str(last)
        log.info("resume=true but %s does not exist yet: starting from scratch", last)
    return None


def _vectors(model_cfg: DictConfig) -> PretrainedVectors | None:
    """The model's pretrained vectors: the data module adds the validation and test
    words they know to the vocabulary (and filters by them, ``known_words_only``)."""
    embedding = model_cfg.get("embedding") or {}
    config = embedding.get("vectors")
    return hydra.utils.instantiate(config) if config is not None else None


def build(cfg: DictConfig, datamodule: DataModule | None = None) -> tuple[DataModule, SeqtagModule]:
    """The data module (read and indexed) and the model ``cfg`` describes; an already set
    up ``datamodule`` is reused (benchmarks compare models on the same batches)."""
    if datamodule is None:
        datamodule = hydra.utils.instantiate(cfg.data, _partial_=True)(vectors=_vectors(cfg.model))
        datamodule.setup("fit")
    # a partial, then the call: kwargs given to instantiate would be turned into config nodes
    model = hydra.utils.instantiate(OmegaConf.to_container(cfg.model, resolve=True), _partial_=True)(
        task=datamodule.task, vocabs=datamodule.vocabs, source=datamodule.source(),
        run_config=_run_config(cfg))
    return datamodule, model


def train(cfg: DictConfig) -> dict[str, float]:
    """Train and evaluate as ``cfg`` says; returns the final metrics (also in metrics.json)."""
    L.seed_everything(cfg.seed, workers=True)
    log.info("seed %d", cfg.seed)
    resume_from = _resume_path(cfg)
    if cfg.get("init_from") and resume_from is None:
        try:  # before the data is read, which can take minutes
            saved_model.find(cfg.init_from)
        except ModelLoadError as err:
            raise ModelLoadError(f"init_from={cfg.init_from}: {err}") from None
    datamodule, model = build(cfg)
    if datamodule.vectors is not None:
        datamodule.vectors.release()  # in the model's weights now
    if cfg.get("init_from") and resume_from is None:
        warm_start(model, cfg.init_from)
    trainer = hydra.utils.instantiate(
        cfg.trainer, callbacks=_instantiate_all(cfg.get("callbacks")),
        logger=_instantiate_all(cfg.get("logger")) or False,
    )
    trainer.fit(model, datamodule=datamodule, ckpt_path=resume_from, weights_only=True)

    # validate/test reset callback_metrics: keep what only fit knows first
    metrics: dict[str, float] = {
        k: float(v) for k, v in trainer.callback_metrics.items()
        if k.endswith("_best") or k.startswith("perf/") or (k.startswith("train/") and "_step" not in k)
    }
    checkpoint = trainer.checkpoint_callback
    best = checkpoint.best_model_path if isinstance(checkpoint, ModelCheckpoint) else ""
    if not best:
        log.warning("no best checkpoint was saved; scoring the weights as they are")
    for run in (trainer.validate, trainer.test):
        if run is trainer.test and not cfg.get("test", True):
            continue
        for results in run(model, datamodule=datamodule, ckpt_path=best or None, weights_only=True):
            metrics.update({k: float(v) for k, v in results.items()})
    log.info("best checkpoint %s: %s", best or "(none)", json.dumps(metrics, sort_keys=True))
    for stage, report in model.reports.items():
        log.info("%s report:\n%s", stage, report)
    _save(Path(cfg.paths.output_dir), metrics, cfg, trainer)
    if trainer.is_global_zero:
        # the weights of the best checkpoint, loaded by the validate/test runs above
        path = model.save(Path(cfg.paths.output_dir) / saved_model.MODEL_FILE)
        log.info("saved model: %s (load with seqtag.load or seqtag-predict)", path)
    return metrics


@hydra.main(version_base="1.3", config_path=CONFIG_PATH, config_name="train")
def main(cfg: DictConfig) -> float | None:
    """Console entry point; returns the optimised metric for sweepers."""
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    try:
        metrics = train(cfg)
    except (SeqtagError, InstantiationException) as err:
        # Bad input or a bad config value: one clear line, not a library traceback.
        cause = err.__cause__ if isinstance(err, InstantiationException) else None
        if cause is not None and not isinstance(cause, (SeqtagError, ValueError, TypeError)):
            raise
        message = f"{cause} (config key: {getattr(err, 'full_key', '?')})" if cause else str(err)
        log.error("%s", message)
        raise SystemExit(f"seqtag: {message}") from None
    return metrics.get(cfg.get("optimized_metric", ""))


if __name__ == "__main__":
    main()
