"""Tagging metrics as torchmetrics states, so they can be gathered across DDP ranks.

Entity scores come from seqeval in its default mode, which counts chunks the
way the CoNLL ``conlleval`` script does (an ``I-X`` after ``O`` starts a
chunk); predictions are converted to IOB2 first, whatever the training scheme.
Updates only append tensors: no device-to-host sync on the hot path.
"""

from __future__ import annotations

import torch
from seqeval.metrics import classification_report
from torchmetrics import Metric

from seqtag.data.schemes import convert
from seqtag.data.vocab import Vocab


class EntityScores(Metric):
    """seqeval micro precision/recall/F1 (and per entity type) over whole sentences."""

    full_state_update = False
    last_report = ""

    def __init__(self, tags: Vocab, scheme: str = "iob2") -> None:
        super().__init__()
        self.tags = list(tags.itos)
        self.scheme = scheme
        for name in ("preds", "target", "starts", "lengths", "widths"):
            self.add_state(name, default=[], dist_reduce_fx="cat")

    def update(
        self, preds: torch.Tensor, target: torch.Tensor, mask: torch.Tensor,
        starts: torch.Tensor | None = None,
    ) -> None:
        """``starts`` (B, T) marks the first token of each sentence in rows that hold
        several (document context); without it each row is one sentence."""
        batch, width = preds.shape
        if starts is None:
            starts = torch.zeros_like(preds)
            starts[:, 0] = 1
        self.preds.append(preds.reshape(-1))
        self.target.append(target.reshape(-1))
        self.starts.append(starts.reshape(-1).to(torch.bool))
        self.lengths.append(mask.sum(1))
        self.widths.append(torch.full((batch,), width, device=preds.device, dtype=torch.long))

    def sequences(self) -> tuple[list[list[str]], list[list[str]]]:
        """Gold and predicted IOB2 tag sequences, one list per sentence."""
        if isinstance(self.lengths, list) and not self.lengths:
            return [], []

        def flat(state: list[torch.Tensor] | torch.Tensor) -> list[int]:
            tensor = torch.cat(state) if isinstance(state, list) else state
            return tensor.cpu().tolist()

        preds, target, starts = flat(self.preds), flat(self.target), flat(self.starts)
        lengths, widths = flat(self.lengths), flat(self.widths)
        gold, pred = [], []
        offset = 0
        for length, width in zip(lengths, widths, strict=True):
            cuts = [i for i in range(offset + 1, offset + length) if starts[i]] + [offset + length]
            begin = offset
            for end in cuts:
                gold.append(self._strings(target[begin:end]))
                pred.append(self._strings(preds[begin:end]))
                begin = end
            offset += width
        return gold, pred

    def _strings(self, ids: list[int]) -> list[str]:
        tags = [self.tags[i] for i in ids]
        return convert(tags, self.scheme, "iob2") if self.scheme != "iob2" else tags

    def compute(self) -> dict[str, torch.Tensor]:
        """Scores over every rank's sentences; also sets :attr:`last_report` (seqeval's text report)."""
        gold, pred = self.sequences()
        self.last_report = classification_report(gold, pred, digits=4, zero_division=0)
        scores = classification_report(gold, pred, output_dict=True, zero_division=0)
        micro = scores.pop("micro avg")
        out = {
            "precision": micro["precision"], "recall": micro["recall"], "f1": micro["f1-score"],
        }
        for kind, row in scores.items():
            if not kind.endswith(" avg"):
                out[f"f1_{kind}"] = row["f1-score"]
        return {k: torch.tensor(float(v)) for k, v in out.items()}


class TokenAccuracy(Metric):
    """Share of real (non-padding) tokens tagged correctly."""

    full_state_update = False
    last_report = ""

    def __init__(self) -> None:
        super().__init__()
        self.add_state("correct", default=torch.tensor(0), dist_reduce_fx="sum")
        self.add_state("total", default=torch.tensor(0), dist_reduce_fx="sum")

    def update(
        self, preds: torch.Tensor, target: torch.Tensor, mask: torch.Tensor,
        starts: torch.Tensor | None = None,
    ) -> None:
        self.correct += ((preds == target) & mask).sum()
        self.total += mask.sum()

    def compute(self) -> dict[str, torch.Tensor]:
        """Accuracy over every rank's tokens; also sets :attr:`last_report`."""
        acc = self.correct.float() / self.total.clamp(min=1)
        self.last_report = (
            f"token accuracy: {acc.item():.4f} ({int(self.correct)} / {int(self.total)} tokens)\n"
        )
        return {"acc": acc}


class ClassificationScores(Metric):
    """Accuracy, and precision/recall/F1 of the ``positive`` label, over whole documents."""

    full_state_update = False
    last_report = ""

    def __init__(self, labels: Vocab, positive: str | None = None) -> None:
        super().__init__()
        self.labels = list(labels.itos)
        if positive is not None and positive not in self.labels:
            raise ValueError(f"positive label {positive!r} is not one of the labels {self.labels}")
        self.positive = positive
        self.positive_index = self.labels.index(positive) if positive is not None else -1
        for name in ("correct", "total", "tp", "fp", "fn"):
            self.add_state(name, default=torch.tensor(0), dist_reduce_fx="sum")

    def update(self, preds: torch.Tensor, target: torch.Tensor) -> None:
        self.correct += (preds == target).sum()
        self.total += target.numel()
        pos_pred, pos_gold = preds == self.positive_index, target == self.positive_index
        self.tp += (pos_pred & pos_gold).sum()
        self.fp += (pos_pred & ~pos_gold).sum()
        self.fn += (~pos_pred & pos_gold).sum()

    def compute(self) -> dict[str, torch.Tensor]:
        acc = self.correct.float() / self.total.clamp(min=1)
        out = {"acc": acc}
        text = f"accuracy: {acc.item():.4f} ({int(self.correct)} / {int(self.total)} documents)\n"
        if self.positive is not None:
            precision = self.tp.float() / (self.tp + self.fp).clamp(min=1)
            recall = self.tp.float() / (self.tp + self.fn).clamp(min=1)
            f1 = 2 * precision * recall / (precision + recall).clamp(min=1e-12)
            out.update({"precision_pos": precision, "recall_pos": recall, "f1_pos": f1})
            text += (f"positive label {self.positive!r}: precision {precision.item():.4f} "
                     f"recall {recall.item():.4f} F1 {f1.item():.4f}\n")
        self.last_report = text
        return out


def scores_for(task: str, tags: Vocab, scheme: str) -> Metric:
    """The metric of a task: entity scores for ``entity``, accuracy for ``token``."""
    if task == "entity":
        return EntityScores(tags, scheme)
    if task == "token":
        return TokenAccuracy()
    raise ValueError(f"unknown task {task!r}")
