"""Sweep summary: every run of a multirun in one table (markdown and CSV) and one plot.

Runs automatically at the end of ``seqtag-train -m ...`` (a Hydra callback, see
``conf/hydra/default.yaml``), or by hand on any sweep directory:

    seqtag-sweep-summary outputs/multirun/<date>_<time>

Each job's overrides (``.hydra/overrides.yaml``) and ``metrics.json`` become a row;
the overrides that differ between jobs are the swept values. ``summary.png``
plots the validation score against the first swept value (one line per
combination of the others). Jobs that have not finished appear with empty scores.
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
from pathlib import Path
from typing import Any

import yaml
from hydra.experimental.callback import Callback
from omegaconf import DictConfig

log = logging.getLogger(__name__)
SCORES = ("train/acc", "val/acc", "test/acc", "val/f1", "test/f1", "val/f1_pos", "test/f1_pos",
          "perf/epoch_seconds", "perf/peak_rss_mib")


def _overrides(job: Path) -> dict[str, str]:
    path = job / ".hydra" / "overrides.yaml"
    if not path.is_file():
        return {}
    items = yaml.safe_load(path.read_text()) or []
    return dict(item.lstrip("+~").split("=", 1) for item in items if "=" in item)


def collect(sweep_dir: Path) -> tuple[list[str], list[dict[str, Any]]]:
    """The swept keys and one row per job (overrides, scores), in job order."""
    jobs = sorted((p for p in sweep_dir.iterdir() if p.is_dir() and (p / ".hydra").is_dir()),
                  key=lambda p: (len(p.name), p.name))
    rows = []
    for job in jobs:
        metrics_file = job / "metrics.json"
        metrics = json.loads(metrics_file.read_text()) if metrics_file.is_file() else {}
        rows.append({"job": job.name, "overrides": _overrides(job), "metrics": metrics})
    keys = sorted({k for row in rows for k in row["overrides"]})
    swept = [k for k in keys if len({row["overrides"].get(k) for row in rows}) > 1]
    return swept, rows


def _number(value: str) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def write_summary(sweep_dir: str | Path) -> Path | None:
    """Write summary.md, summary.csv and summary.png into the sweep directory."""
    sweep_dir = Path(sweep_dir)
    if not sweep_dir.is_dir():
        raise FileNotFoundError(f"{sweep_dir}: no such sweep directory")
    swept, rows = collect(sweep_dir)
    if not rows:
        log.warning("%s: no runs found", sweep_dir)
        return None
    scores = [s for s in SCORES if any(s in row["metrics"] for row in rows)]
    header = ["job", *swept, *scores]
    table = [[row["job"], *(row["overrides"].get(k, "") for k in swept),
              *(f"{row['metrics'][s]:.4f}" if s in row["metrics"] else "" for s in scores)] for row in rows]
    with open(sweep_dir / "summary.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(table)
    constant = {k: v for row in rows[:1] for k, v in row["overrides"].items() if k not in swept}
    lines = [f"# Sweep {sweep_dir}", "", "Common overrides: " + (
        " ".join(f"`{k}={v}`" for k, v in sorted(constant.items())) or "none"), "",
        "| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    lines += ["| " + " | ".join(cells) + " |" for cells in table]
    (sweep_dir / "summary.md").write_text("\n".join(lines) + "\n")
    _plot(sweep_dir / "summary.png", swept, rows)
    log.info("sweep summary: %s (.md, .csv, .png)", sweep_dir / "summary")
    return sweep_dir / "summary.md"


def _plot(path: Path, swept: list[str], rows: list[dict]) -> None:
    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    import matplotlib.pyplot as plt

    metric = next((m for m in ("val/acc", "val/f1") if any(m in r["metrics"] for r in rows)), None)
    if metric is None:
        return
    x_key = swept[0] if swept else "job"
    others = swept[1:]
    fig, ax = plt.subplots(figsize=(7, 4))
    groups: dict[tuple, list[tuple[str, float]]] = {}
    for row in rows:
        if metric not in row["metrics"]:
            continue
        x = row["overrides"].get(x_key, row["job"])
        groups.setdefault(tuple(row["overrides"].get(k, "") for k in others), []).append(
            (x, row["metrics"][metric]))
    numeric = all(_number(x) is not None for points in groups.values() for x, _ in points)
    for label, points in groups.items():
        if numeric:
            points = sorted(points, key=lambda p: float(p[0]))
            ax.plot([float(x) for x, _ in points], [y for _, y in points], marker="o",
                    label=", ".join(f"{k}={v}" for k, v in zip(others, label, strict=True)) or None)
        else:
            ax.plot([x for x, _ in points], [y for _, y in points], marker="o", linestyle="none",
                    label=", ".join(f"{k}={v}" for k, v in zip(others, label, strict=True)) or None)
    ax.set_xlabel(x_key)
    ax.set_ylabel(metric)
    ax.grid(alpha=0.3)
    if others:
        ax.legend(fontsize="small")
    ax.set_title(f"{metric} by {x_key}")
    if not numeric:
        fig.autofmt_xdate(rotation=30)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


class SweepSummary(Callback):
    """Hydra callback: write the summary when a multirun ends."""

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        try:
            write_summary(config.hydra.sweep.dir)
        except Exception as err:  # a summary must never turn a finished sweep into a failure
            log.warning("no sweep summary: %s", err)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="seqtag-sweep-summary", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sweep_dir")
    args = parser.parse_args(argv)
    try:
        written = write_summary(args.sweep_dir)
    except FileNotFoundError as err:
        raise SystemExit(f"seqtag-sweep-summary: {err}") from None
    if written is None:
        raise SystemExit(f"seqtag-sweep-summary: {args.sweep_dir}: no runs found")
    print(written.read_text())


if __name__ == "__main__":
    main()
