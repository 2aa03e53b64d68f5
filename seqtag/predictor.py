"""Use a trained model without the training setup: ``seqtag.load(path).predict(...)``.

    >>> tagger = seqtag.load("outputs/runs/<run>")           # or model.pt / a .ckpt
    >>> tagger.predict("EU rejects German call to boycott British lamb .").entities
    [Entity(text='EU', type='ORG', start=0, end=1, ...), ...]
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from tqdm.auto import tqdm

from seqtag.data.batching import length_batches
from seqtag.errors import ConfigError
from seqtag.models.base import SeqtagModule
from seqtag.tasks import Document, Sentence, Task

PRECISIONS = ("fp32", "bf16")
Inputs = str | Sequence[str] | Sequence[Sequence[str]]


class Predictor:
    """Runs a trained model on texts or token lists, in batches sorted by length.

    What the inputs become and what the outputs are is the model's task's business:
    a tagger gives :class:`Sentence` results, a classifier :class:`Document` ones;
    inputs are tokenised and encoded exactly as in training.
    """

    def __init__(self, model: SeqtagModule, batch_size: int = 32, device: str | torch.device = "cpu",
                 model_path: str = "(in memory)", precision: str = "fp32") -> None:
        self.model = model.eval().to(device)
        self.device = torch.device(device)
        self.batch_size = batch_size
        self.model_path = model_path
        self.precision = check_precision(precision, self.device)

    @classmethod
    def load(cls, path: str | Path, batch_size: int = 32, device: str = "cpu", precision: str = "fp32",
             ) -> Predictor:
        from seqtag import saved_model

        record = saved_model.read(path)
        return cls(SeqtagModule.from_record(record), batch_size=batch_size, device=device,
                   model_path=record["path"], precision=precision)

    @property
    def task(self) -> Task:
        return self.model.task

    @property
    def vocabs(self) -> Any:
        return self.model.vocabs

    @property
    def labels(self) -> list[str]:
        return list(self.vocabs.tags.itos)

    def predict(
        self, inputs: Inputs, docs: Sequence[int] | None = None, document: bool = False,
        batch_size: int | None = None, progress: bool = False,
    ) -> Sentence | Document | list[Sentence] | list[Document]:
        """Results for one text, a list of texts, or a list of token lists (in input order).

        ``docs`` gives each input's document and ``document=True`` reads all inputs as
        consecutive sentences of one document: models trained with document context
        (``data.task.context_tokens``) then read neighbouring sentences together.
        """
        if isinstance(inputs, str):
            return self.predict([inputs], None, document, batch_size)[0]
        inputs = list(inputs)
        items = self.task.read_inputs(inputs, self.vocabs)
        if document:
            docs = [0] * len(items)
        examples, groups = self.task.batchable(self.vocabs, items, docs)
        rows = self._run(examples, batch_size, progress)
        return self.task.results(self.vocabs, items, groups, rows)

    def _run(self, examples: list[dict], batch_size: int | None, progress: bool) -> list[list]:
        """The model's output rows for every example, in input order, batched by length."""
        batch_size = batch_size or self.batch_size
        collate = self.task.collator(self.vocabs, with_target=False)
        batches = length_batches([len(ex["words"]) for ex in examples], batch_size)
        rows: list[list] = [[] for _ in examples]
        low = self.precision == "bf16"
        with torch.inference_mode(), torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=low):
            for batch_ids in tqdm(batches, disable=not progress, unit="batch", file=sys.stderr,
                                  desc="predicting"):
                batch = collate([examples[k] for k in batch_ids])
                batch = self.model.transfer_batch_to_device(batch, self.device, 0)
                for row, k in zip(self.model.predict_batch(batch).cpu().tolist(), batch_ids, strict=True):
                    rows[k] = row
        return rows


def check_precision(precision: str, device: torch.device) -> str:
    """``fp32``, or ``bf16``: the model's matrix products (LSTM, convolutions, linear
    layers) in bfloat16 under autocast, CRF sums and decoding in float32. On CPU,
    bf16 needs native support (AVX-512 BF16 or AMX); elsewhere it would be slower."""
    if precision not in PRECISIONS:
        raise ConfigError(f"precision must be one of {', '.join(PRECISIONS)}, not {precision!r}")
    if precision == "bf16" and device.type == "cpu" and not torch.ops.mkldnn._is_mkldnn_bf16_supported():
        raise ConfigError("precision bf16: this CPU has no native bfloat16 arithmetic "
                          "(AVX-512 BF16 or AMX); use fp32")
    return precision


def load(path: str | Path, batch_size: int = 32, device: str = "cpu", precision: str = "fp32") -> Predictor:
    """A :class:`Predictor` for a saved model (``model.pt``), a checkpoint or a run directory;
    ``precision="bf16"`` runs it in bfloat16 (:func:`check_precision`)."""
    return Predictor.load(path, batch_size=batch_size, device=device, precision=precision)
