"""Training step time of one config against another on the same real batches.

    python benchmarks/step_time.py --steps 60 -- model/head=crf data.task.train_scheme=iobes

Builds the data and two models from the composed configs (the default, and the
default plus the given overrides; data overrides go to both), then times forward + backward + optimizer
step on the same CoNLL-2003 training batches, alternating the models so both
see the same machine load. Prints the median milliseconds per step of each and
the ratio.
"""

from __future__ import annotations

import argparse
import statistics
import time
from itertools import islice
from pathlib import Path

import lightning as L
import torch
from hydra import compose, initialize_config_dir

import seqtag.train

CONFIG_DIR = str(Path(__file__).resolve().parent.parent / "conf")


def build(
    overrides: list[str], datamodule: L.LightningDataModule | None = None
) -> tuple[L.LightningModule, L.LightningDataModule]:
    with initialize_config_dir(CONFIG_DIR, version_base="1.3"):
        cfg = compose("train", overrides=["paths.output_dir=/tmp/seqtag-step-time", *overrides])
    datamodule, model = seqtag.train.build(cfg, datamodule)
    return model, datamodule


def step_ms(model: L.LightningModule, optimizer: torch.optim.Optimizer, batch: dict) -> float:
    start = time.perf_counter()
    optimizer.zero_grad()
    loss = model.head.loss(model(batch), batch["tags"], batch["mask"])
    loss.backward()
    optimizer.step()
    return (time.perf_counter() - start) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--base", nargs="*", default=[], help="overrides for the baseline")
    parser.add_argument("overrides", nargs="*", help="overrides for the compared model (after --)")
    args = parser.parse_args()
    torch.manual_seed(0)
    # data overrides (e.g. data.task.train_scheme=iobes) apply to both, so both see the same batches
    shared = [o for o in args.overrides if o.startswith(("data.", "data="))]
    base, datamodule = build(args.base + shared)
    other, _ = build(args.base + args.overrides, datamodule)
    models = {"base": base, "compared": other}
    optimizers = {k: torch.optim.Adam(m.parameters(), lr=1e-3) for k, m in models.items()}
    times: dict[str, list[float]] = {k: [] for k in models}
    for i, batch in enumerate(islice(datamodule.train_dataloader(), args.steps + 5)):
        for name, model in models.items():
            model.train()
            ms = step_ms(model, optimizers[name], batch)
            if i >= 5:  # warm-up
                times[name].append(ms)
    medians = {k: statistics.median(v) for k, v in times.items()}
    for name, model in models.items():
        parts = ", ".join(type(getattr(model, p)).__name__ for p in ("embedding", "encoder", "head"))
        print(f"{name}: {parts}, {sum(p.numel() for p in model.parameters())} parameters")
    print(f"base     {' '.join(args.base) or '(default)'}: {medians['base']:.1f} ms/step")
    print(f"compared {' '.join(args.base + args.overrides)}: {medians['compared']:.1f} ms/step")
    print(f"ratio compared/base: {medians['compared'] / medians['base']:.3f} "
          f"over {len(times['base'])} batches, torch threads {torch.get_num_threads()}")


if __name__ == "__main__":
    main()
