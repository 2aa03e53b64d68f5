"""The scorers: one function per kind of score, used by training (through the
torchmetrics states below, which gather across DDP ranks) and by ``seqtag-eval`` alike.

Entity scores are seqeval's in its default mode, which counts chunks the way the
CoNLL ``conlleval`` script does (an ``I-X`` after ``O`` starts a chunk).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence

import torch
from seqeval.metrics import classification_report
from torchmetrics import Metric

Scores = dict[str, float]


def entity_scores(gold: list[list[str]], pred: list[list[str]]) -> tuple[Scores, str]:
    """Micro precision/recall/F1 and F1 per entity type of IOB2 sequences; seqeval's report."""
    report = classification_report(gold, pred, digits=4, zero_division=0)
    table = classification_report(gold, pred, output_dict=True, zero_division=0)
    micro = table.pop("micro avg")
    out = {"precision": micro["precision"], "recall": micro["recall"], "f1": micro["f1-score"]}
    out.update({f"f1_{kind}": row["f1-score"] for kind, row in table.items() if not kind.endswith(" avg")})
    return {k: float(v) for k, v in out.items()}, report


def _ratio(numerator: int, denominator: int) -> float:
    # in float32, as the scores were always computed: the same run gives the same digits
    return float(torch.tensor(numerator).float() / torch.tensor(denominator).clamp(min=1))


def accuracy_scores(gold: list[list[str]], pred: list[list[str]], unit: str = "tokens") -> tuple[Scores, str]:
    """Accuracy over every item of every sequence; a report with precision/recall/F1 per label."""
    pairs = [(g, p) for gs, ps in zip(gold, pred, strict=True) for g, p in zip(gs, ps, strict=True)]
    correct = sum(g == p for g, p in pairs)
    acc = _ratio(correct, len(pairs))
    lines = [f"accuracy: {acc:.4f} ({correct} / {len(pairs)} {unit})", "",
             f"{'label':>12} {'precision':>9} {'recall':>9} {'f1':>9} {'support':>8}"]
    gold_n, pred_n = Counter(g for g, _ in pairs), Counter(p for _, p in pairs)
    hits = Counter(g for g, p in pairs if g == p)
    for label in sorted(gold_n | pred_n):
        p = hits[label] / pred_n[label] if pred_n[label] else 0.0
        r = hits[label] / gold_n[label] if gold_n[label] else 0.0
        f = 2 * p * r / (p + r) if p + r else 0.0
        lines.append(f"{label:>12} {p:9.4f} {r:9.4f} {f:9.4f} {gold_n[label]:8d}")
    return {"acc": acc}, "\n".join(lines) + "\n"


def positive_scores(gold: Sequence[str], pred: Sequence[str], positive: str) -> tuple[Scores, str]:
    """Precision, recall and F1 of one label (a classifier's positive class)."""
    tp = sum(g == positive and p == positive for g, p in zip(gold, pred, strict=True))
    fp = sum(g != positive and p == positive for g, p in zip(gold, pred, strict=True))
    fn = sum(g == positive and p != positive for g, p in zip(gold, pred, strict=True))
    precision = torch.tensor(tp).float() / torch.tensor(tp + fp).clamp(min=1)
    recall = torch.tensor(tp).float() / torch.tensor(tp + fn).clamp(min=1)
    f1 = 2 * precision * recall / (precision + recall).clamp(min=1e-12)
    scores = {"precision_pos": float(precision), "recall_pos": float(recall), "f1_pos": float(f1)}
    return scores, (f"positive label {positive!r}: precision {scores['precision_pos']:.4f} "
                    f"recall {scores['recall_pos']:.4f} F1 {scores['f1_pos']:.4f}\n")


def confusion(gold: list[list[str]], pred: list[list[str]], kind: Callable[[str], str], unit: str,
              top: int = 15) -> str:
    """Confusions between ``kind``s of labels (entity types and O; tags; labels), most frequent first."""
    pairs = Counter((kind(g), kind(p)) for gs, ps in zip(gold, pred, strict=True)
                    for g, p in zip(gs, ps, strict=True))
    kinds = sorted({k for pair in pairs for k in pair})
    width = max(8, *(len(k) + 1 for k in kinds))
    lines = [f"confusion ({unit}; rows gold, columns predicted):"]
    if len(kinds) <= 12:
        lines.append(" " * width + "".join(f"{k:>{width}}" for k in kinds))
        for g in kinds:
            lines.append(f"{g:>{width}}" + "".join(f"{pairs[(g, p)]:>{width}d}" for p in kinds))
    errors = [(n, g, p) for (g, p), n in pairs.items() if g != p]
    lines += ["", f"most frequent confusions (gold -> predicted), top {top}:"]
    lines += [f"  {g} -> {p}: {n}" for n, g, p in sorted(errors, reverse=True)[:top]]
    return "\n".join(lines) + "\n"


Scorer = Callable[[list[list[int]], list[list[int]]], tuple[Scores, str]]


class SequenceScores(Metric):
    """Gathers predicted and gold label ids of every sequence (across DDP ranks), then
    scores them with ``scorer`` (the task's, given the ids). Updates only append
    tensors: no device-to-host sync on the hot path.

    ``update(preds, target, mask, starts)``: (B, T) ids; ``starts`` marks the first
    token of each sentence in rows that hold several (document context). For one
    label per row, give (B, 1) tensors and a (B, 1) mask.
    """

    full_state_update = False
    last_report = ""

    def __init__(self, scorer: Scorer) -> None:
        super().__init__()
        self.scorer = scorer
        for name in ("preds", "target", "starts", "lengths", "widths"):
            self.add_state(name, default=[], dist_reduce_fx="cat")

    def update(self, preds: torch.Tensor, target: torch.Tensor, mask: torch.Tensor,
               starts: torch.Tensor | None = None) -> None:
        batch, width = preds.shape
        if starts is None:
            starts = torch.zeros_like(preds)
            starts[:, 0] = 1
        self.preds.append(preds.reshape(-1))
        self.target.append(target.reshape(-1))
        self.starts.append(starts.reshape(-1).to(torch.bool))
        self.lengths.append(mask.sum(1))
        self.widths.append(torch.full((batch,), width, device=preds.device, dtype=torch.long))

    def sequences(self) -> tuple[list[list[int]], list[list[int]]]:
        """Gold and predicted ids, one list per sentence."""
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
                gold.append(target[begin:end])
                pred.append(preds[begin:end])
                begin = end
            offset += width
        return gold, pred

    def compute(self) -> dict[str, torch.Tensor]:
        """Scores over every rank's sequences; also sets :attr:`last_report`."""
        scores, self.last_report = self.scorer(*self.sequences())
        return {k: torch.tensor(v) for k, v in scores.items()}
