"""``seqtag-eval``: score a trained model on a split of its corpus or on any file of the kind it reads.

    seqtag-eval outputs/runs/<run>                       # the test split of the run's corpus
    seqtag-eval outputs/runs/<run> --split validation
    seqtag-eval model.pt --file my.conll --tag-column 3 --predictions preds.txt
    seqtag-eval sentiment/model.pt --file reviews.csv --text-column review

Prints and saves the task's report (seqeval's for entity models, accuracy per
label for token models and classifiers), a confusion summary, and the gold labels
the model does not know (scored as errors). Files: CoNLL columns or CoNLL-U for
taggers, CSV/TSV with a header for classifiers. ``--predictions`` writes
``item gold predicted`` lines (for taggers, the input of CoNLL's ``conlleval``).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

from seqtag.cli import add_runtime_options, run
from seqtag.data import conll
from seqtag.data.labelled import read_labelled
from seqtag.errors import DataError
from seqtag.predictor import Predictor
from seqtag.registry import lookup
from seqtag.tasks import Task
from seqtag.tasks.scoring import confusion


def read_split(source: dict | None, split: str, data_dir: str | None) -> list[dict]:
    """The rows of a split of the corpus the model was trained on, split as in training."""
    if not source or "corpus" not in source:
        raise DataError("this model carries no corpus; score a file with --file instead")
    options = dict(source["corpus"])
    if data_dir is not None:  # one folder per corpus under the data directory
        options["root"] = str(Path(data_dir) / Path(options["root"]).name)
    corpus = lookup("corpus", options.pop("type"))(**options)
    splits = corpus.splits(**{k: v for k, v in source.items() if k != "corpus" and v is not None})
    if split not in splits:
        raise DataError(f"the corpus has no {split!r} split")
    return list(splits[split])


def _read_labelled(path: Path, args: argparse.Namespace) -> list[dict]:
    delimiter = "\t" if path.suffix in (".tsv", ".tab") else ","
    return list(read_labelled(str(path), args.text_column, args.label_column, delimiter))


def _read_columns(path: Path, args: argparse.Namespace) -> list[dict]:
    if args.format == "conllu":
        return list(conll.read_conllu(path, tag_field=args.tag_field))
    return list(conll.read_columns(path, token_column=args.token_column, tag_column=args.tag_column))


# the readers of gold files, by the name a task gives (its ``reader``); tags are checked
# by nobody here: gold tags the model does not know are scored as errors
READERS = {"columns": _read_columns, "labelled": _read_labelled}


def read_file(args: argparse.Namespace, reader: str) -> list[dict]:
    path = Path(args.file)
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    return READERS[reader](path, args)


def evaluate(args: argparse.Namespace) -> dict[str, float]:
    predictor = Predictor.load(args.model, batch_size=args.batch_size, device=args.device,
                               precision=args.precision)
    task = predictor.task
    if args.file:
        rows = read_file(args, task.reader)
        name = Path(args.file).stem
    else:
        rows = read_split(predictor.model.source, args.split, args.data_dir)
        name = args.split
    if not rows:
        raise DataError(f"{args.file or args.split}: nothing to score")
    inputs, docs = task.gold_inputs(rows)
    results = predictor.predict(inputs, docs=docs, progress=not args.quiet)
    gold = task.gold(rows)
    pred = [r.labels for r in results]
    known = task.known_labels(predictor.vocabs)
    unknown = Counter(label for labels in task.labels_as_read(rows) for label in labels if label not in known)
    scores, report = task.score(gold, pred)
    size = f"{len(rows)} examples, {sum(len(labels) for labels in gold)} {task.unit}"
    text = (f"seqtag-eval {predictor.model_path} on {args.file or 'split ' + args.split}: {size}\n\n"
            f"{report}\n{_confusion(task, gold, pred)}")
    if unknown:
        text += (f"\ngold labels the model does not know (scored as errors): "
                 f"{', '.join(f'{t} ({n})' for t, n in unknown.most_common())}\n")
    if args.predictions:
        lines = [line for r, g, p in zip(results, gold, pred, strict=True)
                 for line in task.prediction_lines(r, g, p)]
        Path(args.predictions).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return _save_outputs(args, name, scores, text, unknown)


def _confusion(task: Task, gold: list[list[str]], pred: list[list[str]]) -> str:
    return confusion(gold, pred, task.kind, task.unit)


def _default_output_dir(model_path: str) -> Path:
    path = Path(model_path)
    if path.is_dir():
        return path / "eval"
    if path.parent.name == "checkpoints":
        return path.parent.parent / "eval"
    return path.parent / "eval"


def _save_outputs(args: argparse.Namespace, name: str, scores: dict, text: str, unknown: Counter) -> dict:
    print(text)
    out_dir = Path(args.output_dir) if args.output_dir else _default_output_dir(args.model)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / f"{name}_report.txt").write_text(text, encoding="utf-8")
    (out_dir / f"{name}_metrics.json").write_text(
        json.dumps({**scores, "unknown_tags": dict(unknown)}, indent=2, sort_keys=True))
    print(f"saved {out_dir / f'{name}_report.txt'}" +
          (f" and predictions {args.predictions}" if args.predictions else ""), file=sys.stderr)
    return scores


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="seqtag-eval", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", help="model.pt, a checkpoint (.ckpt) or a run directory")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--split", default="test", choices=("train", "validation", "test"),
                       help="a split of the run's corpus (default: test)")
    where.add_argument("--file", help="a file to score instead: CoNLL columns / CoNLL-U (taggers), CSV/TSV "
                                      "(classifiers)")
    p.add_argument("--format", choices=("columns", "conllu"), default="columns")
    p.add_argument("--token-column", type=int, default=0)
    p.add_argument("--tag-column", type=int, default=-1, help="default: the last column")
    p.add_argument("--tag-field", choices=("upos", "xpos"), default="upos", help="CoNLL-U tag field")
    p.add_argument("--text-column", default="text", help="classifiers: the text column of a CSV/TSV file")
    p.add_argument("--label-column", default="label", help="classifiers: the label column")
    p.add_argument("--data-dir", help="where the corpora are now, if not where training found them")
    p.add_argument("--output-dir", help="default: eval/ in the run directory")
    p.add_argument("--predictions", help="also write `token gold predicted` lines (conlleval input)")
    add_runtime_options(p)
    return p


def main(argv: list[str] | None = None) -> None:
    run("seqtag-eval", evaluate, parser().parse_args(argv))


if __name__ == "__main__":
    main()
