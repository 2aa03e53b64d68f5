"""Inference throughput of a saved model: tokens per second at several batch sizes.

    python benchmarks/predict_speed.py outputs/runs/<run> --batch-sizes 1 32 256

Tags the sentences of a CoNLL file (default: the CoNLL-2003 test set under
$SEQTAG_DATA_DIR) with ``Predictor.tag``: numericalising, batching, the model
and decoding included, reading and writing files not. Each batch size runs
after one warm-up pass; batch size 1 may be limited to the first N sentences
(``--max-sentences-bs1``) to keep the run short.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from datetime import date
from pathlib import Path

import torch

from seqtag.data.conll import read_columns
from seqtag.predictor import Predictor


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("model")
    default = Path(os.environ.get("SEQTAG_DATA_DIR", "data")) / "conll2003" / "test.txt"
    parser.add_argument("--file", default=str(default))
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[1, 32, 256])
    parser.add_argument("--max-sentences-bs1", type=int, default=1000)
    args = parser.parse_args()
    sentences = [s["tokens"] for s in read_columns(args.file)]
    docs = [0] * len(sentences)
    predictor = Predictor.load(args.model)
    rows = []
    for batch_size in args.batch_sizes:
        subset = sentences[: args.max_sentences_bs1] if batch_size == 1 else sentences
        predictor.predict(subset[:200], docs=docs[:200], batch_size=batch_size)  # warm-up
        start = time.perf_counter()
        predictor.predict(subset, docs=docs[: len(subset)], batch_size=batch_size)
        seconds = time.perf_counter() - start
        tokens = sum(len(s) for s in subset)
        rows.append({"batch_size": batch_size, "sentences": len(subset), "tokens": tokens,
                     "seconds": round(seconds, 3), "tokens_per_second": round(tokens / seconds),
                     "sentences_per_second": round(len(subset) / seconds, 1)})
        print(json.dumps(rows[-1]), flush=True)
    print(f"\n{date.today()} {platform.processor() or platform.machine()}, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads, model {args.model} (document context "
          f"{predictor.task.options().get('context_tokens', 0)} tokens)\n")
    print("| batch size | sentences | tokens | seconds | tokens/s | sentences/s |")
    print("| --- | --- | --- | --- | --- | --- |")
    for r in rows:
        print(f"| {r['batch_size']} | {r['sentences']} | {r['tokens']} | {r['seconds']} | "
              f"{r['tokens_per_second']:,} | {r['sentences_per_second']} |")


if __name__ == "__main__":
    main()
