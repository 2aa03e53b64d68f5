"""``seqtag-eval``: score a trained model on a split of its corpus or on any CoNLL / CoNLL-U file.

    seqtag-eval outputs/runs/<run>                       # the test split of the run's corpus
    seqtag-eval outputs/runs/<run> --split validation
    seqtag-eval model.pt --file my.conll --tag-column 3 --predictions preds.txt

Prints and saves the seqeval report (entity models) or the accuracy report
(token models and document classifiers), a per-type confusion summary, and the
gold tags the model does not know (scored as errors). A classifier is scored on
a split of its corpus or on a CSV/TSV file (``--text-column``, ``--label-column``).
``--predictions`` writes ``token gold predicted`` lines, the input of the CoNLL
``conlleval`` script.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

import hydra
from omegaconf import OmegaConf
from seqeval.metrics import classification_report

from seqtag.cli import add_runtime_options, run
from seqtag.data import conll
from seqtag.data.classification import read_labelled
from seqtag.data.errors import SeqtagDataError
from seqtag.data.schemes import convert, detect_scheme, split_tag
from seqtag.predictor import Predictor

Sentences = list[dict]


def read_split(run_config: dict | None, split: str, data_dir: str | None) -> Sentences:
    """A split of the corpus the model was trained on, found through the saved run config."""
    if not run_config or "data" not in run_config or "corpus" not in run_config["data"]:
        raise SeqtagDataError("this model carries no corpus config; score a file with --file instead")
    corpus_cfg = OmegaConf.create(run_config["data"]["corpus"])
    if data_dir is not None:
        saved_dir = str(run_config.get("paths", {}).get("data_dir", ""))
        root = str(corpus_cfg.root)
        inside = saved_dir and root.startswith(saved_dir)
        rest = root[len(saved_dir):].lstrip("/") if inside else Path(root).name
        corpus_cfg.root = str(Path(data_dir) / rest)
    corpus = hydra.utils.instantiate(corpus_cfg)
    return list(corpus.sentences(split))


def read_documents(run_config: dict | None, split: str, data_dir: str | None) -> tuple[list, list]:
    """Texts and labels of a split of a classifier's corpus, split as in training."""
    if not run_config or "data" not in run_config:
        raise SeqtagDataError("this model carries no data config; score a file with --file instead")
    data_cfg = OmegaConf.create(run_config["data"])
    data_cfg.vectors = None
    if data_dir is not None:
        data_cfg.corpus.root = str(Path(data_dir) / Path(str(data_cfg.corpus.root)).name)
    splits = hydra.utils.instantiate(data_cfg).documents()
    if split not in splits:
        raise SeqtagDataError(f"the corpus has no {split!r} split")
    return list(splits[split]["text"]), list(splits[split]["label"])


def read_file(path: str, fmt: str, token_column: int, tag_column: int, tag_field: str) -> Sentences:
    if not Path(path).is_file():
        raise SeqtagDataError(f"{path}: no such file")
    if fmt == "conllu":
        return list(conll.read_conllu(path, tag_field=tag_field))
    return list(conll.read_columns(path, token_column=token_column, tag_column=tag_column))


def gold_tags(sentences: Sentences, known: set[str], task: str) -> tuple[list[list[str]], Counter]:
    """Gold tags ready to score (IOB2 for entity tasks), and the unknown ones counted.

    Unknown tags are kept, so they count as errors; an entity tag without an
    IOB prefix becomes ``B-<tag>``, a chunk no prediction can match.
    """
    unknown: Counter[str] = Counter(t for s in sentences for t in s["tags"] if t not in known)
    if task != "entity":
        return [list(s["tags"]) for s in sentences], unknown

    def fix(tag: str) -> str:
        return tag if tag == "O" or tag[1:2] == "-" else f"B-{tag}"

    fixed = [[fix(t) for t in s["tags"]] for s in sentences]
    scheme = detect_scheme(fixed)
    if scheme != "iob2":
        fixed = [convert(tags, scheme, "iob2") for tags in fixed]
    return fixed, unknown


def accuracy_report(gold: list[list[str]], pred: list[list[str]]) -> tuple[dict, str]:
    pairs = [(g, p) for gs, ps in zip(gold, pred, strict=True) for g, p in zip(gs, ps, strict=True)]
    correct = sum(g == p for g, p in pairs)
    acc = correct / max(1, len(pairs))
    lines = [f"token accuracy: {acc:.4f} ({correct} / {len(pairs)} tokens)", "",
             f"{'tag':>12} {'precision':>9} {'recall':>9} {'f1':>9} {'support':>8}"]
    gold_n, pred_n = Counter(g for g, _ in pairs), Counter(p for _, p in pairs)
    hits = Counter(g for g, p in pairs if g == p)
    for tag in sorted(gold_n | pred_n):
        p = hits[tag] / pred_n[tag] if pred_n[tag] else 0.0
        r = hits[tag] / gold_n[tag] if gold_n[tag] else 0.0
        f = 2 * p * r / (p + r) if p + r else 0.0
        lines.append(f"{tag:>12} {p:9.4f} {r:9.4f} {f:9.4f} {gold_n[tag]:8d}")
    return {"acc": acc}, "\n".join(lines) + "\n"


def entity_scores(gold: list[list[str]], pred: list[list[str]]) -> tuple[dict, str]:
    report = classification_report(gold, pred, digits=4, zero_division=0)
    scores = classification_report(gold, pred, output_dict=True, zero_division=0)
    micro = scores["micro avg"]
    out = {"precision": micro["precision"], "recall": micro["recall"], "f1": micro["f1-score"]}
    out.update({f"f1_{k}": v["f1-score"] for k, v in scores.items() if not k.endswith(" avg")})
    return {k: float(v) for k, v in out.items()}, report


def confusion(gold: list[list[str]], pred: list[list[str]], task: str, top: int = 15) -> str:
    """Token-level confusions between types (entity types and O; or tags), most frequent first."""
    def kind(tag: str) -> str:
        return (split_tag(tag)[1] or "O") if task == "entity" else tag

    pairs = Counter((kind(g), kind(p)) for gs, ps in zip(gold, pred, strict=True)
                    for g, p in zip(gs, ps, strict=True))
    kinds = sorted({k for pair in pairs for k in pair})
    width = max(8, *(len(k) + 1 for k in kinds))
    unit = "documents" if task == "document" else "tokens"
    lines = [f"confusion ({unit}; rows gold, columns predicted):"]
    if len(kinds) <= 12:
        lines.append(" " * width + "".join(f"{k:>{width}}" for k in kinds))
        for g in kinds:
            lines.append(f"{g:>{width}}" + "".join(f"{pairs[(g, p)]:>{width}d}" for p in kinds))
    errors = [(n, g, p) for (g, p), n in pairs.items() if g != p]
    lines.append("")
    lines.append(f"most frequent confusions (gold -> predicted), top {top}:")
    for n, g, p in sorted(errors, reverse=True)[:top]:
        lines.append(f"  {g} -> {p}: {n}")
    return "\n".join(lines) + "\n"


def write_predictions(path: Path, sentences: Sentences, gold: list[list[str]], pred: list[list[str]]) -> None:
    with open(path, "w", encoding="utf-8") as out:
        for sentence, gs, ps in zip(sentences, gold, pred, strict=True):
            for token, g, p in zip(sentence["tokens"], gs, ps, strict=True):
                out.write(f"{token} {g} {p}\n")
            out.write("\n")


def _default_output_dir(model_path: str) -> Path:
    path = Path(model_path)
    if path.is_dir():
        return path / "eval"
    if path.parent.name == "checkpoints":
        return path.parent.parent / "eval"
    return path.parent / "eval"


def evaluate_classifier(predictor: Predictor, args: argparse.Namespace) -> tuple[str, dict, str, Counter]:
    if args.file:
        if not Path(args.file).is_file():
            raise SeqtagDataError(f"{args.file}: no such file")
        delimiter = "\t" if args.file.endswith((".tsv", ".tab")) else ","
        rows = list(read_labelled(args.file, args.text_column, args.label_column, delimiter))
        texts, labels = [r["text"] for r in rows], [r["label"] for r in rows]
        name = Path(args.file).stem
    else:
        texts, labels = read_documents(predictor.model.run_config, args.split, args.data_dir)
        name = args.split
    if not texts:
        raise SeqtagDataError(f"{args.file or args.split}: no documents to score")
    predicted = [r.label for r in predictor.classify(texts, progress=not args.quiet)]
    unknown = Counter(label for label in labels if label not in set(predictor.labels))
    scores, report = accuracy_report([labels], [predicted])
    text = (f"seqtag-eval {predictor.model_path} on {args.file or 'split ' + args.split}: "
            f"{len(texts)} documents\n\n"
            f"{report.replace('token accuracy', 'accuracy').replace('tokens)', 'documents)')}\n")
    text += confusion([labels], [predicted], "document")
    return name, scores, text, unknown


def evaluate(args: argparse.Namespace) -> dict:
    predictor = Predictor.load(args.model, batch_size=args.batch_size, device=args.device)
    vocabs = predictor.vocabs
    if vocabs.task == "document":
        name, scores, text, unknown = evaluate_classifier(predictor, args)
        if unknown:
            text += (f"\ngold labels the model does not know (scored as errors): "
                     f"{', '.join(f'{t} ({n})' for t, n in unknown.most_common())}\n")
        return _save_outputs(args, name, scores, text, unknown)
    if args.file:
        sentences = read_file(args.file, args.format, args.token_column, args.tag_column, args.tag_field)
        name = Path(args.file).stem
    else:
        sentences = read_split(predictor.model.run_config, args.split, args.data_dir)
        name = args.split
    if not sentences:
        raise SeqtagDataError(f"{args.file or args.split}: no sentences to score")
    known = set(vocabs.tags.itos)
    if vocabs.task == "entity":  # gold may come in another IOB scheme: compare entity types
        types = {split_tag(tag)[1] for tag in vocabs.tags.itos} - {""}
        known = {f"{prefix}-{t}" for prefix in "BIES" for t in types} | {"O"}
    gold, unknown = gold_tags(sentences, known, vocabs.task)
    pred = predictor.tag([s["tokens"] for s in sentences], [s.get("doc", 0) for s in sentences],
                         progress=not args.quiet)
    if vocabs.task == "entity":
        scores, report = entity_scores(gold, pred)
    else:
        scores, report = accuracy_report(gold, pred)
    text = f"seqtag-eval {predictor.model_path} on {args.file or 'split ' + args.split}: " \
           f"{len(sentences)} sentences, {sum(len(s['tokens']) for s in sentences)} tokens\n\n{report}\n"
    text += confusion(gold, pred, vocabs.task)
    if unknown:
        text += (f"\ngold tags the model does not know (scored as errors): "
                 f"{', '.join(f'{t} ({n})' for t, n in unknown.most_common())}\n")
    if args.predictions:
        write_predictions(Path(args.predictions), sentences, gold, pred)
    return _save_outputs(args, name, scores, text, unknown)


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
    where.add_argument("--file", help="a CoNLL column or CoNLL-U file to score instead")
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
