"""``seqtag-predict``: tag raw text with a trained model.

    echo "EU rejects German call to boycott British lamb ." | seqtag-predict outputs/runs/<run>
    seqtag-predict model.pt news.txt --format jsonl --output news.jsonl
    seqtag-predict model.pt tokens.txt --tokenized         # one token per line, blank line between sentences

Input: a file or standard input, one sentence (or document) per line, split
into tokens by :mod:`seqtag.tokenize`; with ``--tokenized`` one token per line
(first column; blank lines end sentences, ``-DOCSTART-`` lines start documents).
An empty input line gives an empty sentence, so output lines up with input, and
separates documents for models trained with document context. Invalid UTF-8
is replaced (U+FFFD) with a warning naming the line.

Output: CoNLL columns (``token<TAB>tag``, blank line after each sentence) or
JSON lines with tokens, tags and entity spans (``text``, ``type``, token
``start``/``end`` exclusive, and character offsets for text input). A
classifier (e.g. sentiment) labels each line as one document and writes
``label<TAB>probability`` lines, or JSON lines with every label's probability.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, TextIO

from seqtag.cli import add_runtime_options, run
from seqtag.data.errors import SeqtagDataError
from seqtag.predictor import Prediction, Predictor
from seqtag.tokenize import tokenize

PROGRESS_FROM = 1000  # sentences: smaller inputs finish before a bar would help


def decoded_lines(stream: BinaryIO, name: str) -> Iterator[str]:
    for number, raw in enumerate(stream, start=1):
        try:
            text = raw.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError as err:
            print(f"seqtag-predict: warning: {name}, line {number}: invalid UTF-8 "
                  f"({err.reason} at byte {err.start}) replaced by U+FFFD", file=sys.stderr)
            text = raw.decode("utf-8", errors="replace")
        yield text.rstrip("\r\n")


def read_text(lines: Iterator[str]) -> tuple[list[str], list[list], list[int]]:
    """One sentence per line; empty lines end a document."""
    texts, pieces, docs, doc = [], [], [], 0
    for line in lines:
        texts.append(line)
        pieces.append(tokenize(line))
        docs.append(doc)
        if not line.strip():
            doc += 1
    return texts, pieces, docs


def read_tokenized(lines: Iterator[str]) -> tuple[list[list[str]], list[int]]:
    sentences, docs, tokens, doc = [], [], [], 0
    for line in lines:
        fields = line.split()
        if fields and fields[0] == "-DOCSTART-":
            if tokens:
                sentences.append(tokens)
                docs.append(doc)
                tokens = []
            doc += 1
            continue
        if not fields:
            if tokens:
                sentences.append(tokens)
                docs.append(doc)
                tokens = []
            continue
        tokens.append(fields[0])
    if tokens:
        sentences.append(tokens)
        docs.append(doc)
    return sentences, docs


def write(out: TextIO, predictions: list[Prediction], fmt: str) -> None:
    for prediction in predictions:
        if fmt == "jsonl":
            out.write(json.dumps(prediction.to_dict(), ensure_ascii=False) + "\n")
        else:
            for token, tag in zip(prediction.tokens, prediction.tags, strict=True):
                out.write(f"{token}\t{tag}\n")
            out.write("\n")


def predict(args: argparse.Namespace) -> int:
    predictor = Predictor.load(args.model, batch_size=args.batch_size, device=args.device)
    if args.input == "-":
        lines = decoded_lines(sys.stdin.buffer, "<stdin>")
    else:
        path = Path(args.input)
        if not path.is_file():
            raise SeqtagDataError(f"{path}: no such input file")
        lines = decoded_lines(open(path, "rb"), str(path))  # noqa: SIM115 (read lazily to the end)
    if predictor.task == "document":
        if args.tokenized:
            documents, _ = read_tokenized(lines)
        else:
            documents = list(lines)
        progress = not args.quiet and len(documents) >= PROGRESS_FROM
        results = predictor.classify(documents, progress=progress)
        out = open(args.output, "w", encoding="utf-8") if args.output else sys.stdout  # noqa: SIM115
        for result in results:
            if args.format == "jsonl":
                out.write(json.dumps(result.to_dict(), ensure_ascii=False) + "\n")
            else:
                out.write(f"{result.label}\t{result.scores[result.label]:.4f}\n")
        if args.output:
            out.close()
        return len(results)
    if args.tokenized:
        sentences, docs = read_tokenized(lines)
        texts, pieces = [None] * len(sentences), None
    else:
        texts, pieces, docs = read_text(lines)
        sentences = [[t.text for t in p] for p in pieces]
    progress = not args.quiet and len(sentences) >= PROGRESS_FROM
    tags = predictor.tag(sentences, docs, progress=progress)
    predictions = [
        Prediction(tokens, sentence_tags,
                   predictor.entities(tokens, sentence_tags, pieces[i] if pieces else None), texts[i])
        for i, (tokens, sentence_tags) in enumerate(zip(sentences, tags, strict=True))
    ]
    if args.output:
        with open(args.output, "w", encoding="utf-8") as out:
            write(out, predictions, args.format)
    else:
        write(sys.stdout, predictions, args.format)
    return len(predictions)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="seqtag-predict", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", help="model.pt, a checkpoint (.ckpt) or a run directory")
    p.add_argument("input", nargs="?", default="-", help="text file (default: standard input)")
    p.add_argument("--tokenized", action="store_true", help="input is one token per line")
    p.add_argument("--format", choices=("conll", "jsonl"), default="conll")
    p.add_argument("--output", help="default: standard output")
    add_runtime_options(p)
    return p


def main(argv: list[str] | None = None) -> None:
    run("seqtag-predict", predict, parser().parse_args(argv))


if __name__ == "__main__":
    main()
