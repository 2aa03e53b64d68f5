"""A trained model as one self-contained file: weights, vocabularies, tag set and
scheme, and the composed config, stored as tensors and plain Python values only.

It is read with ``torch.load(weights_only=True)``, so loading never runs pickled
code, and it needs neither the training data, the embeddings package nor the
run folder. seqtag checkpoints (``*.ckpt``) carry the same record beside
Lightning's state, so they load the same way.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import hydra
import torch
from hydra.errors import InstantiationException
from omegaconf import DictConfig, OmegaConf

from seqtag import __version__
from seqtag.data.datamodule import Vocabularies
from seqtag.data.errors import ModelLoadError
from seqtag.models.base import SeqtagModule

FORMAT = "seqtag-model"
# Raise when a change makes older files unreadable (renamed parts, new record keys).
FORMAT_VERSION = 1
MODEL_FILE = "model.pt"


def model_config(cfg: DictConfig, model: SeqtagModule) -> dict:
    """The model's config as plain values, with pretrained vectors dropped: the
    saved weights already hold them, and loading must not need the package."""
    config = OmegaConf.to_container(cfg.model, resolve=True)
    embedding = config.get("embedding")
    if isinstance(embedding, dict) and "vectors" in embedding:
        embedding["vectors"] = None
        embedding["dim"] = int(model.embedding.embedding.embedding_dim)
    if isinstance(embedding, dict) and embedding.get("extra_vectors") is not None:
        embedding["extra_vectors"] = None
        embedding["extra_dim"] = int(model.embedding.extra.embedding_dim)
    return config


def model_record(model: SeqtagModule, with_weights: bool = True) -> dict[str, Any]:
    """What :func:`save` writes (``with_weights=False``: all but the weights, for checkpoints)."""
    if model.model_config is None:
        raise ValueError("this model was not built from a config (model_config is unset); "
                         "build it with seqtag-train or set model.model_config")
    record = {
        "format": FORMAT, "format_version": FORMAT_VERSION, "seqtag_version": __version__,
        "model_config": model.model_config, "run_config": model.run_config,
        "vocabs": model.vocabs.to_dict(), "context_tokens": int(model.context_tokens),
        "text_options": dict(model.text_options),
    }
    if with_weights:
        record["state_dict"] = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    return record


def save(model: SeqtagModule, path: str | Path) -> Path:
    """Write the model to ``path`` (atomically: a crash leaves the old file or none)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    torch.save(model_record(model), partial)
    os.replace(partial, path)
    return path


def find(path: str | Path) -> Path:
    """The model file for ``path``: a saved model, a checkpoint, or a run directory
    (its ``model.pt``, else its best checkpoint, else ``last.ckpt``)."""
    path = Path(path).expanduser()
    if path.is_dir():
        candidates = [path / MODEL_FILE, *sorted((path / "checkpoints").glob("best*.ckpt"))[-1:],
                      path / "checkpoints" / "last.ckpt"]
        for candidate in candidates:
            if candidate.is_file():
                return candidate
        raise ModelLoadError(f"{path}: a directory without a seqtag model (looked for {MODEL_FILE}, "
                             "checkpoints/best*.ckpt and checkpoints/last.ckpt)")
    if not path.exists():
        raise ModelLoadError(f"{path}: no such file or directory")
    return path


def read(path: str | Path) -> dict[str, Any]:
    """The record (with ``state_dict``) of a saved model, checkpoint or run directory."""
    path = find(path)
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises many types for files it cannot read
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ModelLoadError(f"{path}: not a seqtag model (cannot be read as a PyTorch file: "
                             f"{reason[:200]})") from None
    if isinstance(obj, dict) and isinstance(obj.get("seqtag"), dict) and "state_dict" in obj:
        record = {**obj["seqtag"], "state_dict": obj["state_dict"]}
    elif isinstance(obj, dict) and obj.get("format") == FORMAT:
        record = obj
    else:
        raise ModelLoadError(f"{path}: not a seqtag model (a PyTorch file without seqtag's record; "
                             "was it written by seqtag-train?)")
    version = record.get("format_version")
    if version != FORMAT_VERSION:
        raise ModelLoadError(
            f"{path}: written by seqtag {record.get('seqtag_version', '?')} in model format "
            f"{version}, but this seqtag ({__version__}) reads format {FORMAT_VERSION}; load it "
            f"with seqtag {record.get('seqtag_version', '?')}, or retrain it with this version"
        )
    record["path"] = str(path)
    return record


def build(record: dict[str, Any]) -> SeqtagModule:
    """The model of a record, weights loaded, in eval mode."""
    where = f"{record.get('path', 'the model')} (seqtag {record.get('seqtag_version', '?')})"
    try:
        vocabs = Vocabularies.from_dict(record["vocabs"])
        config = OmegaConf.create(record["model_config"])
        model = hydra.utils.instantiate(config, _partial_=True)(vocabs=vocabs)
    except (InstantiationException, KeyError, TypeError, ValueError) as err:
        raise ModelLoadError(f"{where}: this seqtag ({__version__}) cannot rebuild the model: "
                             f"{str(err).splitlines()[0]}") from None
    try:
        model.load_state_dict(record["state_dict"])
    except RuntimeError as err:
        detail = " ".join(str(err).split())[:300]
        raise ModelLoadError(f"{where}: the weights do not fit this seqtag's ({__version__}) model: "
                             f"{detail}") from None
    model.model_config = record["model_config"]
    model.run_config = record.get("run_config")
    model.context_tokens = int(record.get("context_tokens", 0))
    model.text_options = dict(record.get("text_options") or {})
    return model.eval()
