"""``seqtag-train`` end to end, as a user runs it, on slices of the real corpora."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# the installed console script, as a user runs it (next to this Python when in a virtualenv)
SEQTAG_TRAIN = shutil.which(
    "seqtag-train", path=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
)


def run_train(
    *overrides: str, data_dir: Path | str, cache: Path, cwd: Path = ROOT
) -> subprocess.CompletedProcess:
    assert SEQTAG_TRAIN, "the seqtag-train console script is not installed (pip install -e .)"
    env = {**os.environ, "SEQTAG_DATA_DIR": str(data_dir), "SEQTAG_CACHE_DIR": str(cache),
           "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "OMP_NUM_THREADS": "2"}
    return subprocess.run(
        [SEQTAG_TRAIN, *overrides, "trainer.enable_progress_bar=false"],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=900,
    )


def _scalars(event_dir: Path) -> dict[str, list[float]]:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    found: dict[str, list[float]] = {}
    for events in event_dir.glob("events.out.tfevents.*"):
        acc = EventAccumulator(str(events))
        acc.Reload()
        for tag in acc.Tags()["scalars"]:
            found.setdefault(tag, []).extend(e.value for e in acc.Scalars(tag))
    return found


def _hparams(event_dir: Path) -> tuple[set[str], set[str]]:
    """Hyper-parameter names and metric tags recorded for TensorBoard's HPARAMS tab."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from tensorboard.plugins.hparams import plugin_data_pb2

    names: set[str] = set()
    metrics: set[str] = set()
    for events in event_dir.glob("events.out.tfevents.*"):
        acc = EventAccumulator(str(events))
        acc.Reload()
        try:
            content = acc.PluginTagToContent("hparams")
        except KeyError:  # this event file has no hyper-parameters
            continue
        for blob in content.values():
            data = plugin_data_pb2.HParamsPluginData.FromString(blob)
            names.update(data.session_start_info.hparams)
            metrics.update(m.name.tag for m in data.experiment.metric_infos)
    return names, metrics


def test_ner_run_writes_every_artifact(data_dir: Path, hf_cache: Path, tmp_path: Path):
    run_dir = tmp_path / "run"
    result = run_train(
        "data.max_examples=1500", "trainer.max_epochs=3", f"hydra.run.dir={run_dir}",
        data_dir=data_dir, cache=hf_cache,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert (run_dir / ".hydra" / "config.yaml").is_file()
    assert "vocabulary:" in (run_dir / "train.log").read_text()
    checkpoints = {p.name for p in (run_dir / "checkpoints").glob("*.ckpt")}
    assert "last.ckpt" in checkpoints and any(n.startswith("best_") for n in checkpoints)

    metrics = json.loads((run_dir / "metrics.json").read_text())
    for stage in ("val", "test"):
        for name in ("f1", "precision", "recall"):
            assert 0.0 <= metrics[f"{stage}/{name}"] <= 1.0
        assert metrics[f"{stage}/f1"] > 0.3  # 3 epochs on 1,500 sentences learn real entities
        assert {f"{stage}/f1_{t}" for t in ("PER", "LOC", "ORG", "MISC")} <= set(metrics)
    assert metrics["val/f1_best"] == pytest.approx(metrics["val/f1"], abs=1e-6)  # best ckpt rescored
    assert metrics["perf/tokens_per_second"] > 0

    report = (run_dir / "test_report.txt").read_text()
    assert all(t in report for t in ("PER", "LOC", "ORG", "MISC", "micro avg"))
    scalars = _scalars(run_dir / "tensorboard")
    assert {"train/loss_epoch", "val/f1", "val/f1_PER", "lr-Adam", "perf/epoch_seconds"} <= set(scalars)
    assert len(scalars["val/f1"]) >= 3  # once per epoch (+ the final rescoring)
    names, hp_metrics = _hparams(run_dir / "tensorboard")
    assert {"model/encoder/hidden_size", "model/optimizer/lr", "seed"} <= names
    assert {"hp/val_f1", "hp/test_f1"} <= hp_metrics
    throughput = json.loads((run_dir / "throughput.json").read_text())
    assert len(throughput) == 3 and throughput[0]["epoch_seconds"] > 0


def test_pos_run_reports_accuracy(data_dir: Path, hf_cache: Path, tmp_path: Path):
    run_dir = tmp_path / "pos"
    result = run_train(
        "experiment=ud_ewt_pos", "data.max_examples=800", "trainer.max_epochs=2",
        f"hydra.run.dir={run_dir}", data_dir=data_dir, cache=hf_cache,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert 0.5 < metrics["val/acc"] <= 1.0 and 0.5 < metrics["test/acc"] <= 1.0
    assert "val/f1" not in metrics
    report = (run_dir / "test_report.txt").read_text()
    accuracy = re.search(r"^accuracy: (\d\.\d{4}) \(\d+ / \d+ tokens\)$", report, re.MULTILINE)
    assert accuracy and float(accuracy.group(1)) == pytest.approx(metrics["test/acc"], abs=5e-5)


@pytest.mark.slow
def test_multirun_sweep_writes_one_run_per_value(data_dir: Path, hf_cache: Path, tmp_path: Path):
    sweep_dir = tmp_path / "sweep"
    result = run_train(
        "-m", "model.encoder.num_layers=1,2", "data.max_examples=200", "trainer.max_epochs=1",
        f"hydra.sweep.dir={sweep_dir}", data_dir=data_dir, cache=hf_cache,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    for job, layers in (("0", 1), ("1", 2)):
        assert (sweep_dir / job / "metrics.json").is_file()
        overrides = (sweep_dir / job / ".hydra" / "overrides.yaml").read_text()
        assert f"model.encoder.num_layers={layers}" in overrides


def test_missing_data_folder_gives_one_clear_message(hf_cache: Path, tmp_path: Path):
    result = run_train(
        f"hydra.run.dir={tmp_path / 'run'}", data_dir=tmp_path / "no-data", cache=hf_cache,
    )
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "corpus files not found" in result.stderr
    assert str(tmp_path / "no-data" / "conll2003" / "train.txt") in result.stderr
    assert "SEQTAG_DATA_DIR" in result.stderr
    assert "eriktks/conll2003" in result.stderr  # the hub was tried, offline, and failed cleanly


def test_malformed_corpus_line_names_file_and_line(hf_cache: Path, tmp_path: Path):
    corpus = _tiny_conll2003(tmp_path / "data") / "conll2003"
    with open(corpus / "train.txt", "a") as handle:
        handle.write("German JJ B-MISC\n")
    result = run_train(f"hydra.run.dir={tmp_path / 'run'}", data_dir=tmp_path / "data", cache=hf_cache)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert f"{corpus / 'train.txt'}, line 4: expected 4 columns, found 3" in result.stderr


def test_unknown_tag_scheme_is_a_clear_config_error(hf_cache: Path, tmp_path: Path):
    result = run_train(
        "data.corpus.scheme=bilou", f"hydra.run.dir={tmp_path / 'run'}", data_dir=tmp_path, cache=hf_cache,
    )
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "unknown tag scheme 'bilou'" in result.stderr


def _final_metrics(run_dir: Path) -> dict[str, float]:
    metrics = json.loads((run_dir / "metrics.json").read_text())
    return {k: v for k, v in metrics.items() if not k.startswith("perf/")}


SMALL_RUN = ("data.max_examples=400", "callbacks.early_stopping=null", "trainer.max_epochs=4",
             "model.encoder.hidden_size=48", "model.optimizer.lr=0.01", "seed=7")


@pytest.mark.slow
def test_same_seed_twice_and_a_run_killed_mid_epoch_then_resumed_end_alike(
    data_dir: Path, hf_cache: Path, tmp_path: Path
):
    runs = {}
    for name in ("first", "second"):
        result = run_train(*SMALL_RUN, f"hydra.run.dir={tmp_path / name}", data_dir=data_dir, cache=hf_cache)
        assert result.returncode == 0, result.stderr[-3000:]
        runs[name] = _final_metrics(tmp_path / name)
    assert runs["first"] == runs["second"]  # same seed on CPU: identical metrics
    assert runs["first"]["test/f1"] > 0.2  # it learned something, so the comparison means something

    killed = tmp_path / "killed"
    env = {**os.environ, "SEQTAG_DATA_DIR": str(data_dir), "SEQTAG_CACHE_DIR": str(hf_cache),
           "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "OMP_NUM_THREADS": "2"}
    process = subprocess.Popen(
        [SEQTAG_TRAIN, *SMALL_RUN, "trainer.enable_progress_bar=false", f"hydra.run.dir={killed}"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    last = killed / "checkpoints" / "last.ckpt"
    deadline = time.monotonic() + 600
    while not last.is_file() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.5)  # into the second epoch's training batches
    process.send_signal(signal.SIGKILL)
    assert process.wait(timeout=60) == -signal.SIGKILL
    assert not (killed / "metrics.json").exists()  # it really died before finishing

    result = run_train(*SMALL_RUN, "resume=true", f"hydra.run.dir={killed}",
                       data_dir=data_dir, cache=hf_cache)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "resuming from" in result.stderr + result.stdout
    trained = [e["epoch"] for e in json.loads((killed / "throughput.json").read_text())]
    assert 0 not in trained and trained[-1] == 3  # the first epoch was not trained again
    assert _final_metrics(killed) == runs["first"]


def test_resume_from_a_missing_checkpoint_is_a_clear_error(hf_cache: Path, tmp_path: Path):
    data = _tiny_conll2003(tmp_path / "data")
    result = run_train(f"ckpt_path={tmp_path / 'nowhere.ckpt'}", f"hydra.run.dir={tmp_path / 'run'}",
                       data_dir=data, cache=hf_cache)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "nowhere.ckpt: no such checkpoint file" in result.stderr


def test_init_from_a_missing_model_fails_before_reading_the_data(hf_cache: Path, tmp_path: Path):
    # no corpus at all: the missing model must be the error reported, not the data
    result = run_train(f"init_from={tmp_path / 'sst2_bilstm'}", f"hydra.run.dir={tmp_path / 'run'}",
                       data_dir=tmp_path / "no-data", cache=hf_cache)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert f"init_from={tmp_path / 'sst2_bilstm'}: " in result.stderr
    assert "no such file or directory" in result.stderr and "corpus files not found" not in result.stderr


def _tiny_conll2003(root: Path) -> Path:
    corpus = root / "conll2003"
    corpus.mkdir(parents=True)
    text = "EU NNP B-NP B-ORG\nrejects VBZ B-VP O\n\n"
    for name in ("train.txt", "valid.txt", "test.txt"):
        (corpus / name).write_text(text)
    return root


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        (("model.embedding.vectors.package=no_such_vectors_pkg",), "pip install no-such-vectors-pkg"),
        (("model/embedding=glove_file", "model.embedding.vectors.path=/nowhere/vectors.txt"),
         "/nowhere/vectors.txt: vectors file not found"),
    ],
)
def test_missing_embeddings_give_one_clear_message(overrides, expected, hf_cache: Path, tmp_path: Path):
    data = _tiny_conll2003(tmp_path / "data")
    result = run_train(*overrides, f"hydra.run.dir={tmp_path / 'run'}", data_dir=data, cache=hf_cache)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert expected in result.stderr


def test_debug_fast_dev_run_connects_everything(data_dir: Path, hf_cache: Path, tmp_path: Path):
    run_dir = tmp_path / "fdr"
    result = run_train("debug=fdr", "data.max_examples=200", f"hydra.run.dir={run_dir}",
                       data_dir=data_dir, cache=hf_cache)
    assert result.returncode == 0, result.stderr[-3000:]
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert {"val/f1", "test/f1"} <= set(metrics)

