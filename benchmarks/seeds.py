"""Train one preset for several seeds and write a table: per seed and mean +- std.

    python benchmarks/seeds.py --name cnn_crf --seeds 1 2 3 -- experiment=conll2003_cnn_crf
    python benchmarks/seeds.py --name cnn_crf --seeds 1 2 3 --collect   # tables of finished runs

Runs go to outputs/bench/<name>_seed<N>; the table (markdown) is printed and
saved as outputs/bench/<name>_seeds.md. Test scores are always those of the
checkpoint chosen by validation.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

from train_benchmark import summarize


def table(name: str, runs: dict[int, dict]) -> str:
    metric = "f1" if any("val/f1" in r["metrics"] for r in runs.values()) else "acc"
    rows = [f"| seed | val {metric} | test {metric} | epochs | s/epoch | command |",
            "| --- | --- | --- | --- | --- | --- |"]
    vals, tests = [], []
    for seed, run in sorted(runs.items()):
        val, test = run["metrics"][f"val/{metric}"] * 100, run["metrics"][f"test/{metric}"] * 100
        vals.append(val)
        tests.append(test)
        rows.append(f"| {seed} | {val:.2f} | {test:.2f} | {run['epochs_trained']} | "
                    f"{run['seconds_per_epoch_median']} | `{run['command']}` |")
    if len(runs) > 1:
        rows.append(f"| mean +- std | {statistics.mean(vals):.2f} +- {statistics.stdev(vals):.2f} | "
                    f"{statistics.mean(tests):.2f} +- {statistics.stdev(tests):.2f} | | | |")
    return f"## {name}\n\n" + "\n".join(rows) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--name", required=True)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--collect", action="store_true", help="only tabulate finished runs")
    parser.add_argument("overrides", nargs="*", help="seqtag-train overrides (after --)")
    args = parser.parse_args()
    runs = {}
    for seed in args.seeds:
        run_dir = Path("outputs/bench") / f"{args.name}_seed{seed}"
        if not args.collect:
            subprocess.run([sys.executable, "-m", "seqtag.train", *args.overrides, f"seed={seed}",
                            f"hydra.run.dir={run_dir}"], check=True)
        if (run_dir / "metrics.json").is_file():
            runs[seed] = summarize(run_dir)
    text = table(args.name, runs)
    print(text)
    print(json.dumps(runs, indent=2), file=sys.stderr)
    Path("outputs/bench").mkdir(parents=True, exist_ok=True)
    (Path("outputs/bench") / f"{args.name}_seeds.md").write_text(text)


if __name__ == "__main__":
    main()
