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
from seqtag.errors import DataError
from seqtag.predictor import Predictor

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


def documents_of(lines: list[str]) -> list[int]:
    """Each line's document: an empty line ends one."""
    docs, doc = [], 0
    for line in lines:
        docs.append(doc)
        if not line.strip():
            doc += 1
    return docs


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


def write(out: TextIO, results: list, fmt: str) -> None:
    for result in results:
        jsonl = json.dumps(result.to_dict(), ensure_ascii=False) + "\n" if fmt == "jsonl" else None
        out.write(jsonl or result.to_conll())


def predict(args: argparse.Namespace) -> int:
    predictor = Predictor.load(args.model, batch_size=args.batch_size, device=args.device,
                               precision=args.precision)
    if args.input == "-":
        lines = decoded_lines(sys.stdin.buffer, "<stdin>")
    else:
        path = Path(args.input)
        if not path.is_file():
            raise DataError(f"{path}: no such input file")
        lines = decoded_lines(open(path, "rb"), str(path))  # noqa: SIM115 (read lazily to the end)
    if args.tokenized:
        inputs, docs = read_tokenized(lines)
    else:
        inputs = list(lines)
        docs = documents_of(inputs)
    results = predictor.predict(inputs, docs=docs, progress=not args.quiet and len(inputs) >= PROGRESS_FROM)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as out:
            write(out, results, args.format)
    else:
        write(sys.stdout, results, args.format)
    return len(results)


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
