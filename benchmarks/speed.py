"""One speed benchmark: training and inference throughput, latency and memory of a config.

    python benchmarks/speed.py experiment=conll2003_cnn_crf
    python benchmarks/speed.py --steps 200 --batch-sizes 1 32 256 experiment=conll2003_cnn_crf \\
        model/embedding=word_char_lstm
    python benchmarks/speed.py --model outputs/runs/<run>/model.pt experiment=conll2003_cnn_crf
    python benchmarks/speed.py --time-to-target 0.93 experiment=conll2003_cnn_crf

Design: the benchmark's own options are ``--flags``; every other argument is a Hydra override,
exactly as ``seqtag-train`` takes it (the config is composed from the shipped ``conf/`` with
``compose("train", overrides)``), so the model, data and batch size measured are those a
training run with the same overrides would use. ``SEQTAG_DATA_DIR`` says where the corpora are.

What is measured (one process, torch's default thread count):

- **training** (``train``): ``--warmup`` steps, then ``--steps`` timed steps over the config's
  training batches (``datamodule.train_dataloader()``, bucketed and shuffled as in training),
  each step a real one in a bare loop without a Lightning Trainer: fetching and collating the
  batch, ``model.training_step`` (forward and loss, as in training; its ``self.log`` calls are
  no-ops without a trainer), ``backward``, gradient clipping to ``trainer.gradient_clip_val``
  and the step of the model's own optimizer (``configure_optimizers``). Tokens are the real
  (unpadded) tokens of the timed batches. ``--trainer`` also times the same number of steps
  through a Lightning ``Trainer`` built from the config's ``trainer`` node (no validation, no
  logger, no callbacks but the timer; progress bar as configured) to show Lightning's overhead.
- **inference** (``inference``): tokens/s at each ``--batch-sizes`` over the test split through
  :class:`seqtag.predictor.Predictor` (numericalising, batching by length, the model in eval
  mode, decoding, results): the steady-state figure is the median of ``--repeats`` passes over
  the same batches after a first one (each pass's figure is in ``passes_tokens_per_s``: on this
  shared 2-core machine one pass may be 20 % off); the first pass, reported too as
  ``first_pass_tokens_per_s``, is often slower (one-time costs of each new batch shape,
  allocator growth). ``--precision bf16`` runs the predictor in bfloat16. Batch 1 runs on the first
  ``--bs1-sentences`` sentences. Each sentence is its own document (``docs=None``).
  Without ``--model`` the weights are the freshly initialised ones: speed does not depend on
  the weights' values (CRF decoding and the char encoder do the same work whatever they are).
- **latency**: each of the first ``--bs1-sentences`` sentences predicted alone
  (``predictor.predict([tokens])``); p50 and p99 of those per-sentence times in ms.
- **memory**: peak RSS of the process (``ru_maxrss``: everything this process did, the data
  included); on CUDA also ``torch.cuda.max_memory_allocated``.
- **time to target** (``--time-to-target F1``, off by default): a real ``seqtag.train.train(cfg)``
  run (up to ``--max-epochs``) with a callback that notes the wall time of each validation and
  stops the run when the monitored validation score first reaches the target (as a fraction,
  0.93 = F1 93.0). Reports seconds from the start of ``fit`` and from the call to ``train``.

- **peers** (``--peers``): after seqtag's own figures, each peer installed beside the project
  (``benchmarks/peers/<peer>/setup.sh`` makes its virtual environment; today flair 0.15.1) runs
  its own ``bench.py`` in its own interpreter on the same data, with the same ``--steps`` and
  batch sizes; its record goes into this one under ``peers`` (``benchmarks/peers/README.md``).

Prints a table and appends one JSON line per run to ``benchmarks/speed_results.jsonl``
(``--results PATH`` to write elsewhere, ``--no-save`` to write nothing) with the command, git
commit (``-dirty`` when the tree has changes), machine, date and figures.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Iterator, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import lightning as L
import torch
from hydra import compose, initialize_config_dir
from omegaconf import DictConfig, OmegaConf

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))  # run as a script or imported as benchmarks.speed alike
from machine_info import cpu_name  # noqa: E402

CONFIG_DIR = str(ROOT / "conf")
RESULTS = Path(__file__).resolve().parent / "speed_results.jsonl"


# -- setup ---------------------------------------------------------------------------------------
def compose_config(overrides: Sequence[str], output_dir: str | None = None) -> DictConfig:
    """The training config for ``overrides``, as ``seqtag-train`` would compose it."""
    output_dir = output_dir or tempfile.mkdtemp(prefix="seqtag-speed-")
    with initialize_config_dir(CONFIG_DIR, version_base="1.3"):
        return compose("train", overrides=[f"paths.output_dir={output_dir}", *overrides])


def git_commit() -> str:
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                                text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True,
                               text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return commit + ("-dirty" if dirty else "")


def machine() -> dict[str, Any]:
    cpu = cpu_name()
    info = {"cpu": cpu, "cores": os.cpu_count(), "platform": platform.platform(),
            "python": platform.python_version(), "torch": torch.__version__,
            "lightning": L.__version__, "torch_threads": torch.get_num_threads()}
    if torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(0)
    return info


def peak_rss_mb() -> float:
    """Peak resident set size of this process in MB (ru_maxrss is KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 1024


def _cycle(loader: Any) -> Iterator[dict]:
    while True:
        yield from loader


def _count(batch: dict) -> tuple[int, int]:
    """(tokens, sentences) of a padded batch."""
    return int(batch["lengths"].sum()), int(batch["lengths"].numel())


def _rates(tokens: int, sentences: int, seconds: float) -> dict[str, float]:
    return {"tokens": tokens, "sentences": sentences, "seconds": seconds,
            "tokens_per_s": tokens / seconds, "sentences_per_s": sentences / seconds}


# -- training ------------------------------------------------------------------------------------
def measure_training(model: L.LightningModule, loader: Any, steps: int = 100, warmup: int = 10,
                     clip: float | None = None, device: str = "cpu") -> dict[str, float]:
    """Steady-state training throughput of a bare loop of real steps (see the module doc)."""
    model.to(device).train()
    configured = model.configure_optimizers()
    optimizer = configured["optimizer"] if isinstance(configured, dict) else configured
    params = [p for p in model.parameters() if p.requires_grad]
    batches = _cycle(loader)
    tokens = sentences = 0
    start = 0.0
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*self.log.*")  # no trainer: log() is a no-op
        for step in range(warmup + steps):
            if step == warmup:
                if device.startswith("cuda"):
                    torch.cuda.synchronize()
                start = time.perf_counter()
            batch = model.transfer_batch_to_device(next(batches), torch.device(device), 0)
            optimizer.zero_grad(set_to_none=True)
            loss = model.training_step(batch, step)
            loss.backward()
            if clip:
                torch.nn.utils.clip_grad_norm_(params, clip)
            optimizer.step()
            if step >= warmup:
                t, s = _count(batch)
                tokens, sentences = tokens + t, sentences + s
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    return {**_rates(tokens, sentences, time.perf_counter() - start), "steps": steps, "warmup": warmup,
            "loss_last": float(loss.detach())}


class _StepTimer(L.Callback):
    """Times training steps ``warmup`` .. the last one inside a Lightning Trainer."""

    def __init__(self, warmup: int) -> None:
        self.warmup = warmup
        self.start = self.end = 0.0
        self.tokens = self.sentences = 0
        self.step = 0

    def on_train_batch_end(self, trainer: L.Trainer, pl_module: L.LightningModule, outputs: Any,
                           batch: dict, batch_idx: int) -> None:
        # steps counted here, not by batch_idx: that restarts at each epoch
        self.step += 1
        if self.step == self.warmup:
            self.start = time.perf_counter()
        elif self.step > self.warmup:
            t, s = _count(batch)
            self.tokens, self.sentences = self.tokens + t, self.sentences + s
            self.end = time.perf_counter()


def measure_trainer(cfg: DictConfig, model: L.LightningModule, datamodule: Any, steps: int = 100,
                    warmup: int = 10) -> dict[str, float]:
    """The same steps through the configured Lightning Trainer (``max_steps``, no validation)."""
    import hydra

    timer = _StepTimer(max(warmup, 1))
    # no validation here, so no score for a plateau schedule to read when the steps cross an epoch
    model.scheduler_config = None
    trainer = hydra.utils.instantiate(
        cfg.trainer, max_steps=timer.warmup + steps, max_epochs=-1, limit_val_batches=0,
        num_sanity_val_steps=0, enable_checkpointing=False, logger=False, callbacks=[timer])
    trainer.fit(model, datamodule=datamodule)
    return {**_rates(timer.tokens, timer.sentences, timer.end - timer.start), "steps": steps,
            "warmup": timer.warmup}


# -- inference -----------------------------------------------------------------------------------
def measure_inference(predictor: Any, sentences: list[list[str]], batch_size: int, repeats: int = 1,
                      ) -> dict[str, float]:
    """Tokens/s of ``predictor.predict`` over ``sentences`` at ``batch_size``: a first (cold) pass,
    then the steady-state figure: the median of ``repeats`` further passes over the same batches
    (each pass's figure is kept too). The first pass pays the one-time costs of each new batch
    shape, as a single ``seqtag-predict`` run does."""
    def one_pass() -> float:
        if predictor.device.type == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        predictor.predict(sentences, batch_size=batch_size)
        if predictor.device.type == "cuda":
            torch.cuda.synchronize()
        return time.perf_counter() - start

    tokens = sum(map(len, sentences))
    first = one_pass()
    passes = [one_pass() for _ in range(max(1, repeats))]
    return {**_rates(tokens, len(sentences), statistics.median(passes)), "batch_size": batch_size,
            "first_pass_seconds": first, "first_pass_tokens_per_s": tokens / first,
            "passes_tokens_per_s": [tokens / seconds for seconds in passes]}


def measure_latency(predictor: Any, sentences: list[list[str]]) -> dict[str, float]:
    """Per-sentence latency (ms) of predicting each sentence alone."""
    predictor.predict([sentences[0]], batch_size=1)
    times = []
    for tokens in sentences:
        start = time.perf_counter()
        predictor.predict([tokens], batch_size=1)
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return {"sentences": len(times), "p50_ms": statistics.median(times),
            "p99_ms": times[min(len(times) - 1, round(0.99 * (len(times) - 1)))],
            "mean_ms": statistics.fmean(times)}


def split_sentences(datamodule: Any, split: str = "test") -> list[list[str]]:
    """The token lists of a split, read and tokenised as for training."""
    raw = datamodule.corpus.splits(datamodule.cache_dir, **datamodule.split_options)
    prepared = datamodule.task.prepare(raw, datamodule.corpus)
    return [list(tokens) for tokens in prepared[split]["tokens"] if len(tokens)]


# -- time to target ------------------------------------------------------------------------------
class TimeToTarget(L.Callback):
    """Notes each validation's wall time and score; stops fitting at the first one >= ``target``.
    Writes its history to ``path`` (JSON) after every validation."""

    def __init__(self, target: float, path: str, monitor: str = "val/f1") -> None:
        self.target, self.path, self.monitor = target, path, monitor
        self.start = 0.0
        self.history: list[dict[str, float]] = []

    def on_fit_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self.start = time.perf_counter()

    def on_validation_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        fitting = trainer.state.fn == "fit"  # not the validate/test runs of the best checkpoint
        if not fitting or trainer.sanity_checking or self.monitor not in trainer.callback_metrics:
            return
        score = float(trainer.callback_metrics[self.monitor])
        self.history.append({"epoch": trainer.current_epoch, "score": score,
                             "seconds_from_fit": time.perf_counter() - self.start,
                             "unix_time": time.time()})
        Path(self.path).write_text(json.dumps(self.history))
        if score >= self.target:
            trainer.should_stop = True


def measure_time_to_target(cfg: DictConfig, target: float, max_epochs: int) -> dict[str, Any]:
    import seqtag.train

    history = Path(cfg.paths.output_dir) / "time_to_target.json"
    cfg = cfg.copy()
    OmegaConf.set_struct(cfg, False)
    cfg.trainer.max_epochs = max_epochs
    cfg.trainer.min_epochs = 0  # else Lightning ignores a stop requested in the first epoch
    cfg.callbacks["time_to_target"] = {"_target_": f"{__name__}.TimeToTarget", "target": target,
                                       "path": str(history), "monitor": cfg.monitor}
    start = time.time()
    seqtag.train.train(cfg)
    epochs = json.loads(history.read_text()) if history.is_file() else []
    reached = next((e for e in epochs if e["score"] >= target), None)
    return {"target": target, "monitor": str(cfg.monitor), "max_epochs": max_epochs,
            "reached": reached is not None,
            "seconds_from_fit": reached["seconds_from_fit"] if reached else None,
            "seconds_from_start": reached["unix_time"] - start if reached else None,
            "epochs": [{"epoch": e["epoch"], "score": e["score"], "seconds_from_fit": e["seconds_from_fit"]}
                       for e in epochs]}


# -- the run -------------------------------------------------------------------------------------
def run(cfg: DictConfig, options: argparse.Namespace) -> dict[str, Any]:
    """Every measurement ``options`` asks for on the config ``cfg``; the record's figures."""
    import seqtag
    import seqtag.train
    from seqtag.predictor import Predictor

    device = options.device
    L.seed_everything(cfg.seed, workers=True)
    start = time.perf_counter()
    datamodule, model = seqtag.train.build(cfg)
    figures: dict[str, Any] = {"setup_seconds": time.perf_counter() - start}
    if options.steps > 0:
        figures["train"] = measure_training(model, datamodule.train_dataloader(), options.steps,
                                            options.warmup, cfg.trainer.get("gradient_clip_val"), device)
        figures["peak_rss_mb_after_train"] = peak_rss_mb()
        if options.trainer:
            _, fresh = seqtag.train.build(cfg, datamodule)
            figures["train_lightning"] = measure_trainer(cfg, fresh, datamodule, options.steps,
                                                         options.warmup)
    if options.model:
        predictor = seqtag.load(options.model, device=device, precision=options.precision)
    else:
        predictor = Predictor(model, device=device, precision=options.precision)
    sentences = split_sentences(datamodule)
    figures["inference"] = {}
    for batch_size in options.batch_sizes:
        subset = sentences[: options.bs1_sentences] if batch_size == 1 else sentences
        figures["inference"][str(batch_size)] = measure_inference(predictor, subset, batch_size,
                                                                  options.repeats)
    if options.bs1_sentences > 0:
        figures["latency_bs1"] = measure_latency(predictor, sentences[: options.bs1_sentences])
    if options.time_to_target:
        figures["time_to_target"] = measure_time_to_target(cfg, options.time_to_target, options.max_epochs)
    figures["peak_rss_mb"] = peak_rss_mb()
    if torch.cuda.is_available():
        figures["cuda_max_allocated_mb"] = torch.cuda.max_memory_allocated() / 2**20
    figures["weights"] = options.model or "untrained (fresh initialisation)"
    return figures


def record(command: str, overrides: Sequence[str], options: argparse.Namespace, figures: dict) -> dict:
    opts = {k: v for k, v in vars(options).items() if k not in ("overrides", "results", "no_save")}
    return {"command": command, "commit": git_commit(), "date": datetime.now(timezone.utc).isoformat(
        timespec="seconds"), "machine": machine(), "overrides": list(overrides), "options": opts, **figures}


def append(entry: dict, path: str | Path) -> None:
    with open(path, "a") as handle:
        handle.write(json.dumps(entry, sort_keys=True) + "\n")


def table(entry: dict) -> str:
    rows = [("setup (data + model), s", f"{entry['setup_seconds']:.1f}")]
    for key, name in (("train", "training, bare loop"), ("train_lightning", "training, Lightning Trainer")):
        if key in entry:
            t = entry[key]
            rows.append((f"{name}: tokens/s | sentences/s",
                         f"{t['tokens_per_s']:,.0f} | {t['sentences_per_s']:,.0f} ({t['steps']} steps)"))
    for batch_size, r in entry.get("inference", {}).items():
        rows.append((f"inference batch {batch_size}: tokens/s | sentences/s (first pass tokens/s)",
                     f"{r['tokens_per_s']:,.0f} | {r['sentences_per_s']:,.0f} "
                     f"({r['first_pass_tokens_per_s']:,.0f}; {r['sentences']} sentences)"))
    if "latency_bs1" in entry:
        lat = entry["latency_bs1"]
        rows.append(("batch-1 latency p50 | p99, ms", f"{lat['p50_ms']:.2f} | {lat['p99_ms']:.2f}"))
    if "time_to_target" in entry:
        tt = entry["time_to_target"]
        rows.append((f"time to {tt['monitor']} >= {tt['target']}, s from fit | from start",
                     f"{tt['seconds_from_fit']:.0f} | {tt['seconds_from_start']:.0f}" if tt["reached"]
                     else f"not reached in {tt['max_epochs']} epochs"))
    if "peak_rss_mb_after_train" in entry:
        rows.append(("peak RSS after training, MB", f"{entry['peak_rss_mb_after_train']:,.0f}"))
    rows.append(("peak RSS, MB", f"{entry['peak_rss_mb']:,.0f}"))
    if "cuda_max_allocated_mb" in entry:
        rows.append(("CUDA max allocated, MB", f"{entry['cuda_max_allocated_mb']:,.0f}"))
    for peer, figures in entry.get("peers", {}).items():
        if "train" not in figures:
            rows.append((f"peer {peer}", figures.get("skipped") or figures.get("failed", "?")))
            continue
        rows.append((f"peer {peer}: training tokens/s", f"{figures['train']['tokens_per_s']:,.0f}"))
        for batch_size, r in figures.get("inference", {}).items():
            rows.append((f"peer {peer}: inference batch {batch_size}, tokens/s", f"{r['tokens_per_s']:,.0f}"))
        rows.append((f"peer {peer}: peak RSS, MB", f"{figures['peak_rss_mb']:,.0f}"))
    width = max(len(r[0]) for r in rows)
    return "\n".join(f"{name:<{width}}  {value}" for name, value in rows)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--steps", type=int, default=100, help="timed training steps (0: no training figures)")
    p.add_argument("--warmup", type=int, default=10, help="untimed training steps first")
    p.add_argument("--trainer", action="store_true", help="also time the steps in a Lightning Trainer")
    p.add_argument("--batch-sizes", type=int, nargs="+", default=[1, 32, 256])
    p.add_argument("--repeats", type=int, default=3,
                   help="steady inference passes per batch size; their median is the figure")
    p.add_argument("--bs1-sentences", type=int, default=500,
                   help="test sentences for batch 1 and the latency figures")
    p.add_argument("--model", help="a saved model (model.pt, .ckpt or run folder) for the inference figures")
    p.add_argument("--precision", choices=("fp32", "bf16"), default="fp32",
                   help="inference precision (Predictor's): bf16 autocast for the matrix products")
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--time-to-target", type=float, metavar="SCORE",
                   help="also train for real until the validation score reaches SCORE (0.93 = F1 93.0)")
    p.add_argument("--max-epochs", type=int, default=30, help="cap of the time-to-target run")
    p.add_argument("--peers", action="store_true",
                   help="also run the peers installed under benchmarks/peers/ (their setup.sh)")
    p.add_argument("--results", default=str(RESULTS), help="JSON-lines file to append to")
    p.add_argument("--no-save", action="store_true", help="print only")
    p.add_argument("overrides", nargs="*", help="Hydra overrides, as for seqtag-train")
    return p


PEERS = Path(__file__).resolve().parent / "peers"


def run_peers(options: argparse.Namespace) -> dict[str, Any]:
    """Each peer installed beside the project (``benchmarks/peers/<peer>/.venv``, made by its
    ``setup.sh``) benchmarked by its own ``bench.py``, in its own interpreter, one after the
    other, after seqtag's figures; its JSON record, or why there is none."""
    found: dict[str, Any] = {}
    for folder in sorted(p for p in PEERS.iterdir() if (p / "bench.py").is_file()):
        python = folder / ".venv" / "bin" / "python"
        if not python.is_file():
            found[folder.name] = {"skipped": f"not installed: bash {folder.relative_to(ROOT)}/setup.sh"}
            continue
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "peer.jsonl"
            args = [str(python), str(folder / "bench.py"), "--results", str(out),
                    "--train-steps", str(options.steps), "--batch-sizes",
                    *[str(b) for b in options.batch_sizes if b > 1]]
            done = subprocess.run(args, cwd=ROOT)
            found[folder.name] = (json.loads(out.read_text().splitlines()[-1]) if done.returncode == 0
                                  else {"failed": f"exit status {done.returncode}: {' '.join(args)}"})
    return found


def main(argv: Sequence[str] | None = None) -> dict:
    argv = list(sys.argv[1:] if argv is None else argv)
    options = parser().parse_args(argv)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    cfg = compose_config(options.overrides)
    figures = run(cfg, options)
    if options.peers:
        figures["peers"] = run_peers(options)
    entry = record(" ".join(["python benchmarks/speed.py", *argv]), options.overrides, options, figures)
    print(table(entry))
    if not options.no_save:
        append(entry, options.results)
        print(f"appended to {options.results}")
    return entry


if __name__ == "__main__":
    if str(ROOT) not in sys.path:  # benchmarks.speed.TimeToTarget for Hydra's instantiate
        sys.path.insert(0, str(ROOT))
    main()
