"""seqtag: Hydra-composed neural sequence taggers trained with PyTorch Lightning."""

from __future__ import annotations

from typing import TYPE_CHECKING

__version__ = "0.1.0"

if TYPE_CHECKING:
    from seqtag.predictor import Predictor


def load(path: str, batch_size: int = 32, device: str = "cpu", precision: str = "fp32") -> Predictor:
    """A predictor for a saved model, checkpoint or run directory: ``seqtag.load(p).predict(texts)``.
    ``precision="bf16"`` runs it in bfloat16 where the CPU (or GPU) supports it."""
    from seqtag.predictor import load as _load  # torch and friends load only when needed

    return _load(path, batch_size=batch_size, device=device, precision=precision)
