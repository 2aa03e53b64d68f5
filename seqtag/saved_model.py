"""The saved-model file: a record of plain values and tensors, read with
``torch.load(weights_only=True)`` so that loading never runs pickled code.

A record names its parts, task, model and corpus by registered name
(:mod:`seqtag.registry`), never by import path, so moving a class breaks no
saved model. Records of format 1 (import paths, the task as a string) are
upgraded on reading. seqtag checkpoints (``*.ckpt``) carry the same record,
less the weights, beside Lightning's state. Models save and load themselves
(:meth:`seqtag.models.base.SeqtagModule.save` / ``load``); this module only
reads and writes files.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

from seqtag import __version__
from seqtag.errors import ModelLoadError

FORMAT = "seqtag-model"
# Raise when a change makes older files unreadable; add an upgrade from the old format.
FORMAT_VERSION = 2
MODEL_FILE = "model.pt"


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


def write(record: dict[str, Any], path: str | Path) -> Path:
    """Write ``record`` to ``path`` atomically (a crash leaves the old file or none)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    torch.save({"format": FORMAT, "format_version": FORMAT_VERSION, "seqtag_version": __version__, **record},
               partial)
    os.replace(partial, path)
    return path


def read(path: str | Path) -> dict[str, Any]:
    """The record (with ``state_dict``) of a saved model, checkpoint or run directory,
    in the current format."""
    path = find(path)
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises many types for files it cannot read
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ModelLoadError(f"{path}: not a seqtag model (cannot be read as a PyTorch file of tensors "
                             f"and plain values: {reason[:200]})") from None
    if isinstance(obj, dict) and isinstance(obj.get("seqtag"), dict) and "state_dict" in obj:
        record = {**obj["seqtag"], "state_dict": obj["state_dict"]}
    elif isinstance(obj, dict) and obj.get("format") == FORMAT:
        record = obj
    else:
        raise ModelLoadError(f"{path}: not a seqtag model (a PyTorch file without seqtag's record; "
                             "was it written by seqtag-train?)")
    version = record.get("format_version")
    if version == 1:
        from seqtag.format1 import upgrade  # only for old files

        record = upgrade(record, path)
    elif version != FORMAT_VERSION:
        raise ModelLoadError(
            f"{path}: written by seqtag {record.get('seqtag_version', '?')} in model format "
            f"{version}, but this seqtag ({__version__}) reads formats 1 to {FORMAT_VERSION}; load it "
            f"with seqtag {record.get('seqtag_version', '?')}, or retrain it with this version"
        )
    record["path"] = str(path)
    return record
