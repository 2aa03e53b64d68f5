"""Train one configuration (or read a finished run) and print its benchmark record.

    python benchmarks/train_benchmark.py --name conll2003 -- experiment=conll2003
    python benchmarks/train_benchmark.py --from-run outputs/bench/conll2003

The record holds the exact command, machine, date, final metrics (of the
checkpoint chosen by validation), seconds per epoch, training tokens per
second and peak memory; paste it into benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import yaml
from machine_info import cpu_name


def machine() -> str:
    cpu = cpu_name()
    return f"{os.cpu_count()} cores ({cpu}), {platform.system()}"


def summarize(run_dir: Path) -> dict:
    metrics = json.loads((run_dir / "metrics.json").read_text())
    epochs = json.loads((run_dir / "throughput.json").read_text())
    overrides = yaml.safe_load((run_dir / ".hydra" / "overrides.yaml").read_text()) or []
    config = yaml.safe_load((run_dir / ".hydra" / "config.yaml").read_text())
    keep = {k: round(v, 4) for k, v in metrics.items()
            if isinstance(v, float) and not k.startswith("perf/") and "/loss" not in k}
    return {
        "run_dir": str(run_dir),
        "command": "seqtag-train " + " ".join(o for o in overrides if not o.startswith("hydra.")),
        "torch_threads": epochs[0].get("torch_threads", "not recorded"),
        "date": datetime.fromtimestamp((run_dir / "metrics.json").stat().st_mtime, timezone.utc)
        .strftime("%Y-%m-%d"),
        "machine": machine(),
        "epochs_trained": len(epochs),
        "max_epochs": config["trainer"]["max_epochs"],
        "seconds_per_epoch_median": round(statistics.median(e["epoch_seconds"] for e in epochs), 1),
        "train_tokens_per_second_median": round(statistics.median(e["tokens_per_second"] for e in epochs)),
        "peak_rss_mib": round(max(e["peak_rss_mib"] for e in epochs)),
        "metrics": keep,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--name", help="run folder name under outputs/bench/")
    parser.add_argument("--from-run", type=Path, help="summarise a finished run directory instead")
    parser.add_argument("overrides", nargs="*", help="seqtag-train overrides (after --)")
    args = parser.parse_args()
    run_dir = args.from_run
    if run_dir is None:
        if not args.name:
            parser.error("--name is required when training")
        run_dir = Path("outputs/bench") / args.name
        command = [sys.executable, "-m", "seqtag.train", *args.overrides, f"hydra.run.dir={run_dir}"]
        subprocess.run(command, check=True)
    print(json.dumps(summarize(run_dir), indent=2))


if __name__ == "__main__":
    main()
