"""Where the time of a training step and of an inference batch goes, by part of the model.

    python benchmarks/profile_step.py experiment=conll2003_cnn_crf
    python benchmarks/profile_step.py --steps 20 --warmup 5 --top 15 experiment=conll2003_cnn_crf

Options are ``--flags``; every other argument is a Hydra override, as for ``seqtag-train``
(``benchmarks/speed.py`` builds the config the same way). Runs on the CPU under
``torch.profiler`` (CPU activity only) and attributes time to parts with ``record_function``
labels opened and closed by module forward hooks (and by wrapping a few methods on the
instances: the collator, the CRF's forward algorithm, gold-path score and Viterbi, the
predictor's input reading and result building). Nothing in ``seqtag`` is changed.

(a) training: ``--warmup`` then ``--steps`` real steps of the bare loop of ``speed.py``
    (fetch + collate, ``training_step``, backward, gradient clipping, optimizer step) at the
    config's batch size; per step averages. The backward pass is split by part too: each
    autograd node evaluated in backward carries the sequence number of the forward op that
    made it, and that op's nearest label says whose backward it is.
(b) inference: ``Predictor.predict`` over the whole test split at ``--eval-batch`` (default 256)
    after a warm-up pass over the same split (steady state, as ``speed.py``); per batch averages.

Times are exclusive (a label's time minus that of the labels inside it), in ms of CPU time
of the profiled thread, so profiler overhead inflates them a little; the shares are the point.
An unprofiled timing of the same loop is printed beside for scale. ``--json PATH`` writes the
tables as JSON too.
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
import time
import warnings
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch
from torch.autograd.profiler import record_function
from torch.profiler import ProfilerActivity, profile

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks import speed  # noqa: E402

BACKWARD = "backward"


def _labelled(function: Callable, label: str) -> Callable:
    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with record_function(label):
            return function(*args, **kwargs)
    return wrapper


def _hook(module: torch.nn.Module, label: str) -> None:
    """Open a ``record_function`` range for ``label`` around every forward call of ``module``."""
    ranges: list[Any] = []

    def enter(*_: Any) -> None:
        ranges.append(record_function(label).__enter__())

    def leave(*_: Any) -> None:
        ranges.pop().__exit__(None, None, None)

    module.register_forward_pre_hook(enter)
    module.register_forward_hook(leave)


def instrument(model: Any, task: Any) -> set[str]:
    """Labels on the model's parts and on the task's collator; returns the label names."""
    labels = {BACKWARD, "optimizer step", "zero_grad", "grad clipping", "fetch batch (DataLoader)",
              "training_step (forward + loss)", "predict_batch", "to tensors on device"}
    parts = {"embedding": "embedding (rest: cat, dropout)", "embedding.embedding": "word embedding lookup",
             "embedding.casing": "casing embedding", "embedding.chars": "char encoder",
             "encoder": "encoder (rest: reversal, packing, merge, dropout)",
             "encoder.rnn": "LSTM recurrence", "head": "head (emission projection)"}
    modules = dict(model.named_modules())
    for name, label in parts.items():
        if name in modules:
            _hook(modules[name], label)
            labels.add(label)
    for module in modules.values():  # every dropout's own cost (masks drawn by bernoulli_)
        if isinstance(module, torch.nn.Dropout):
            _hook(module, "dropout (all layers)")
            labels.add("dropout (all layers)")
    for twin in getattr(model.encoder, "_twins", []):  # the CPU training path runs these
        _hook(twin, "LSTM recurrence")
    crf = getattr(model.head, "crf", None)
    if crf is not None:
        for method, label in (("log_partition", "CRF forward algorithm (log Z)"),
                              ("score", "CRF gold path score"), ("decode", "CRF Viterbi")):
            setattr(crf, method, _labelled(getattr(crf, method), label))
            labels.add(label)
    make_collator = task.collator

    def collator(*args: Any, **kwargs: Any) -> Callable:
        return _labelled(make_collator(*args, **kwargs), "collate + pad")

    task.collator = collator
    for method, label in (("read_inputs", "predictor: read inputs"), ("batchable", "predictor: batchable"),
                          ("results", "predictor: results")):
        setattr(task, method, _labelled(getattr(task, method), label))
    labels |= {"collate + pad", "predictor: read inputs", "predictor: batchable", "predictor: results"}
    return labels


def _label_of(event: Any, labels: set[str]) -> str | None:
    parent = event.cpu_parent
    while parent is not None and parent.name not in labels:
        parent = parent.cpu_parent
    return parent.name if parent is not None else None


def attribute(events: Any, labels: set[str]) -> dict[str, float]:
    """Exclusive CPU microseconds per label; the backward pass split by the forward label of
    each autograd node (``backward: <label>``)."""
    totals: dict[str, float] = defaultdict(float)
    forward_label: dict[int, str] = {}
    events = sorted(events, key=lambda e: e.time_range.start)
    for event in events:
        if event.name in labels:
            total = event.cpu_time_total
            totals[event.name] += total
            parent = _label_of(event, labels)
            if parent is not None:
                totals[parent] -= total
        elif event.sequence_nr >= 0 and not event.name.startswith("autograd::engine"):
            label = _label_of(event, labels)
            # ops that make no autograd node record the number the next node will get:
            # the last op (in start order) holding a number is the one that made its node
            if label is not None and label != BACKWARD:
                forward_label[event.sequence_nr] = label
    for event in events:
        evaluated = event.name.startswith("autograd::engine::evaluate_function")
        if evaluated and _label_of(event, labels) == BACKWARD:
            owner = forward_label.get(event.sequence_nr)
            if owner is None:
                owner = "accumulate grads" if "AccumulateGrad" in event.name else "other"
            totals[f"backward: {owner}"] += event.cpu_time_total
            totals[BACKWARD] -= event.cpu_time_total
    if BACKWARD in totals:
        totals["backward: other"] += totals.pop(BACKWARD)
    return dict(totals)


def _table(title: str, totals: dict[str, float], per: int, what: str, wall_ms: float) -> str:
    whole = sum(totals.values())
    lines = [f"\n{title}", f"| part | ms per {what} | share |", "| --- | ---: | ---: |"]
    for label, micros in sorted(totals.items(), key=lambda kv: -kv[1]):
        if micros > 0:
            lines.append(f"| {label} | {micros / per / 1000:.2f} | {100 * micros / whole:.1f}% |")
    lines.append(f"| **profiled total** | {whole / per / 1000:.2f} | 100% |")
    lines.append(f"| unprofiled wall time, same loop | {wall_ms:.2f} | |")
    return "\n".join(lines)


def _train_loop(model: Any, loader: Any, optimizer: Any, params: list, clip: float | None, steps: int,
                ) -> tuple[int, int]:
    batches = speed._cycle(loader)
    tokens = sentences = 0
    for step in range(steps):
        with record_function("fetch batch (DataLoader)"):
            batch = next(batches)
        with record_function("zero_grad"):
            optimizer.zero_grad(set_to_none=True)
        with record_function("training_step (forward + loss)"):
            loss = model.training_step(batch, step)
        with record_function(BACKWARD):
            loss.backward()
        if clip:
            with record_function("grad clipping"):
                torch.nn.utils.clip_grad_norm_(params, clip)
        with record_function("optimizer step"):
            optimizer.step()
        t, s = speed._count(batch)
        tokens, sentences = tokens + t, sentences + s
    return tokens, sentences


def profile_training(cfg: Any, steps: int, warmup: int) -> dict[str, Any]:
    import seqtag.train

    torch.manual_seed(0)
    datamodule, model = seqtag.train.build(cfg)
    labels = instrument(model, datamodule.task)
    model.train()
    configured = model.configure_optimizers()
    optimizer = configured["optimizer"] if isinstance(configured, dict) else configured
    params = [p for p in model.parameters() if p.requires_grad]
    clip = cfg.trainer.get("gradient_clip_val")
    loader = datamodule.train_dataloader()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*self.log.*")
        _train_loop(model, loader, optimizer, params, clip, warmup)
        start = time.perf_counter()
        _train_loop(model, loader, optimizer, params, clip, steps)
        wall = (time.perf_counter() - start) * 1000 / steps
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            tokens, sentences = _train_loop(model, loader, optimizer, params, clip, steps)
    totals = attribute(prof.events(), labels)
    return {"steps": steps, "tokens": tokens, "sentences": sentences, "wall_ms_per_step": wall,
            "exclusive_us_total": totals,
            "top_ops": prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=30)}


def profile_inference(cfg: Any, batch_size: int) -> dict[str, Any]:
    import seqtag.train
    from seqtag.predictor import Predictor

    torch.manual_seed(0)
    datamodule, model = seqtag.train.build(cfg)
    sentences = speed.split_sentences(datamodule)
    labels = instrument(model, datamodule.task)
    predictor = Predictor(model)
    model.predict_batch = _labelled(model.predict_batch, "predict_batch")
    predictor.predict(sentences, batch_size=batch_size)  # a first pass meets every batch shape once
    start = time.perf_counter()
    predictor.predict(sentences, batch_size=batch_size)
    wall = (time.perf_counter() - start) * 1000
    with profile(activities=[ProfilerActivity.CPU]) as prof, record_function("predict (whole call)"):
        predictor.predict(sentences, batch_size=batch_size)
    labels.add("predict (whole call)")
    totals = attribute(prof.events(), labels)
    totals["rest (Predictor loop: sorting, .cpu().tolist(), ...)"] = totals.pop("predict (whole call)", 0.0)
    batches = -(-len(sentences) // batch_size)
    return {"batch_size": batch_size, "batches": batches, "sentences": len(sentences),
            "tokens": sum(map(len, sentences)), "wall_ms_per_batch": wall / batches,
            "exclusive_us_total": totals,
            "top_ops": prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=30)}


def main(argv: Sequence[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--eval-batch", type=int, default=256)
    p.add_argument("--top", type=int, default=12, help="rows of the op table (by self CPU time)")
    p.add_argument("--json", help="also write the tables here")
    p.add_argument("overrides", nargs="*")
    args = p.parse_args(argv)
    cfg = speed.compose_config(args.overrides)
    train = profile_training(cfg, args.steps, args.warmup)
    infer = profile_inference(cfg, args.eval_batch)
    print(f"training: {train['steps']} steps, {train['tokens'] / train['steps']:.0f} tokens a step")
    print(_table("(a) training step", train["exclusive_us_total"], train["steps"], "step",
                 train["wall_ms_per_step"]))
    print(_table(f"(b) inference, batch {infer['batch_size']}", infer["exclusive_us_total"], infer["batches"],
                 "batch", infer["wall_ms_per_batch"]))
    for name, result in (("training", train), ("inference", infer)):
        rows = result["top_ops"].splitlines()
        print(f"\ntop ops by self CPU time, {name}:")
        print("\n".join(rows[: args.top + 3]))
    if args.json:
        Path(args.json).write_text(json.dumps(
            {"command": " ".join(["python benchmarks/profile_step.py", *(argv or sys.argv[1:])]),
             "commit": speed.git_commit(), "machine": speed.machine(),
             "training": {k: v for k, v in train.items() if k != "top_ops"},
             "inference": {k: v for k, v in infer.items() if k != "top_ops"}}, indent=2))


if __name__ == "__main__":
    main()
