"""Post-hoc probes of trained document classifiers on their test split (SST-2: GLUE dev).

    python benchmarks/classifier_probes.py ensemble RUN [RUN ...]
    python benchmarks/classifier_probes.py unseen-words RUN [RUN ...]
    python benchmarks/classifier_probes.py sentence-stage --lr 1e-4 --epochs 3 RUN [RUN ...]

``ensemble``: each run's accuracy, then that of every combination of two or more
runs, their label probabilities averaged.
``unseen-words``: rows of words never updated in training (still their GloVe 50-d
vector) moved into the fine-tuned space, by a least-squares linear map fitted on
the trained words, or by the trained words' mean shift; accuracy before and after.
``sentence-stage``: a few more epochs on the training split's whole sentences only
(the rows that are part of no other row), accuracy after each epoch. Diagnostic:
it prints test accuracy per epoch, which must not be used to choose an epoch.
"""

from __future__ import annotations

import argparse
import itertools
import os
import random

import numpy as np
import torch

from seqtag.data.phrases import sentence_rows
from seqtag.data.vectors import GloVePackage
from seqtag.evaluate import read_split
from seqtag.predictor import Predictor


def _split(predictor: Predictor, split: str = "test") -> tuple[list[str], list[str]]:
    rows = read_split(predictor.model.source, split, os.environ.get("SEQTAG_DATA_DIR"))
    return [r["text"] for r in rows], [r["label"] for r in rows]


def _test_split(predictor: Predictor) -> tuple[list[str], list[str]]:
    return _split(predictor, "test")


def _accuracy(predictor: Predictor, texts: list[str], labels: list[str]) -> float:
    out = predictor.predict(texts)
    return float(np.mean([c.label == gold for c, gold in zip(out, labels, strict=True)]))


def ensemble(runs: list[str]) -> None:
    probabilities, names = [], None
    for run in runs:
        predictor = Predictor.load(run, batch_size=256)
        texts, labels = _test_split(predictor)
        names = predictor.labels
        out = predictor.predict(texts)
        probabilities.append(np.array([[c.scores[name] for name in names] for c in out]))
        print(f"{run}: {np.mean([c.label == gold for c, gold in zip(out, labels, strict=True)]):.4f}")
    for k in range(2, len(runs) + 1):
        for combo in itertools.combinations(range(len(runs)), k):
            predicted = sum(probabilities[i] for i in combo).argmax(1)
            acc = np.mean([names[p] == gold for p, gold in zip(predicted, labels, strict=True)])
            print(f"ensemble of {[runs[i] for i in combo]}: {acc:.4f}")


def unseen_words(runs: list[str]) -> None:
    glove = GloVePackage()
    for run in runs:
        predictor = Predictor.load(run, batch_size=256)
        texts, labels = _test_split(predictor)
        weight = predictor.model.embedding.embedding.weight.data
        original = np.zeros(tuple(weight.shape), np.float32)
        has_vector = np.zeros(len(weight), bool)
        for i, word in enumerate(predictor.vocabs.words.itos[2:], start=2):
            row = glove.lookup(word)
            if row is not None:
                original[i], has_vector[i] = glove.matrix[row], True
        unchanged = has_vector & (weight == torch.from_numpy(original)).all(1).numpy()
        trained = has_vector & ~unchanged
        tuned = weight[torch.from_numpy(trained)].numpy()
        design = np.c_[original[trained], np.ones(trained.sum())]
        mapping, *_ = np.linalg.lstsq(design, tuned, rcond=None)
        moved = {
            "linear map": np.c_[original[unchanged], np.ones(unchanged.sum())] @ mapping,
            "mean shift": original[unchanged] + (tuned - original[trained]).mean(0),
        }
        scores = {"as trained": _accuracy(predictor, texts, labels)}
        kept = weight.clone()
        for name, rows in moved.items():
            weight[torch.from_numpy(unchanged)] = torch.from_numpy(rows.astype(np.float32))
            scores[name] = _accuracy(predictor, texts, labels)
            weight.copy_(kept)
        print(f"{run}: {trained.sum()} trained rows, {unchanged.sum()} never updated; "
              + ", ".join(f"{k} {v:.4f}" for k, v in scores.items()))


def sentence_stage(runs: list[str], lr: float, epochs: int, batch_size: int = 64) -> None:
    for run in runs:
        torch.manual_seed(0)
        shuffle = random.Random(0)
        predictor = Predictor.load(run, batch_size=256)
        model = predictor.model
        texts, labels = _test_split(predictor)
        train_texts, train_labels = _split(predictor, "train")
        names = model.vocabs.tags.itos
        examples = []
        task = model.task
        for i in sentence_rows(train_texts):
            # tokenised and encoded exactly as training and prediction do
            (tokens, _), = task.read_inputs([train_texts[i]], model.vocabs)
            label = np.int64(names.index(train_labels[i]))
            examples.append({**task.encode(model.vocabs, tokens), "label": label})
        collate = task.collator(model.vocabs)
        optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=lr)
        scores = [_accuracy(predictor, texts, labels)]
        for _ in range(epochs):
            model.train()
            shuffle.shuffle(examples)
            for k in range(0, len(examples), batch_size):
                batch = collate(examples[k : k + batch_size])
                loss = model.head.loss(model(batch), batch["label"])
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
            model.eval()
            scores.append(_accuracy(predictor, texts, labels))
        print(f"{run}: {len(examples)} sentences; test accuracy before, then after each epoch: "
              + " ".join(f"{s:.4f}" for s in scores))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("probe", choices=("ensemble", "unseen-words", "sentence-stage"))
    parser.add_argument("runs", nargs="+", help="run folders, model.pt files or checkpoints")
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args()
    if args.probe == "ensemble":
        ensemble(args.runs)
    elif args.probe == "unseen-words":
        unseen_words(args.runs)
    else:
        sentence_stage(args.runs, args.lr, args.epochs)


if __name__ == "__main__":
    main()
