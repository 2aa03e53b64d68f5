"""Sentiment classification end to end on the real SST-2 and IMDB files, as a user runs it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from seqtag import saved_model
from tests.test_after_training import run
from tests.test_train_e2e import run_train


@pytest.fixture(scope="module")
def sst2_run(data_dir: Path, hf_cache: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sst2")
    result = run_train("data=sst2", "model=classifier", "data.max_examples=5000", "trainer.max_epochs=3",
                       "model.encoder.hidden_size=32", f"hydra.run.dir={out}",
                       data_dir=data_dir, cache=hf_cache)
    assert result.returncode == 0, result.stderr[-3000:]
    return out


def test_sst2_run_reports_accuracy_on_every_split(sst2_run: Path):
    metrics = json.loads((sst2_run / "metrics.json").read_text())
    for key in ("train/acc", "val/acc", "test/acc", "val/f1_pos", "test/f1_pos", "val/acc_best"):
        assert key in metrics, key
    assert metrics["test/acc"] > 0.6  # SST-2 dev is balanced: chance is about 0.51
    assert "accuracy:" in (sst2_run / "test_report.txt").read_text()


def test_sst2_model_classifies_raw_text(sst2_run: Path):
    text = b"a gorgeous , witty , seductive movie .\n\nthe worst , most boring film of the year .\n"
    result = run("seqtag-predict", str(sst2_run), "--format", "jsonl", stdin=text)
    assert result.returncode == 0, result.stderr.decode()[-3000:]
    records = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert len(records) == 3
    assert all(set(r["scores"]) == {"0", "1"} and r["label"] in ("0", "1") for r in records)
    assert records[0]["scores"]["1"] > records[2]["scores"]["1"]


def test_imdb_table_sweep_writes_its_summary(data_dir: Path, hf_cache: Path, tmp_path: Path):
    sweep = tmp_path / "sweep"
    # the table's rows are encoder options (conf/model/encoder/imdb_row/)
    result = run_train("-m", "experiment=imdb_seeds", "model/encoder=imdb_row/birnn1,imdb_row/lstm50",
                       "data.max_examples=200", "trainer.max_epochs=1", f"hydra.sweep.dir={sweep}",
                       data_dir=data_dir, cache=hf_cache)
    assert result.returncode == 0, result.stderr[-3000:]
    table = (sweep / "summary.md").read_text()
    assert "| 0 | imdb_row/birnn1 |" in table and "| 1 | imdb_row/lstm50 |" in table
    assert (sweep / "summary.png").stat().st_size > 1000
    header = (sweep / "summary.csv").read_text().splitlines()[0].split(",")
    assert header[:2] == ["job", "model/encoder"] and "val/acc" in header and "train/acc" in header
    for job, row in enumerate([("rnn", True, 1), ("lstm", False, 50)]):  # each job trained its row's encoder
        encoder = saved_model.read(sweep / str(job))["model"]["encoder"]
        assert (encoder["cell"], encoder["bidirectional"], encoder["hidden_size"]) == row


def test_eval_scores_a_classifier_like_its_test_run(sst2_run: Path, data_dir: Path, tmp_path: Path):
    result = run("seqtag-eval", str(sst2_run), "--quiet")
    assert result.returncode == 0, result.stderr.decode()[-3000:]
    saved = json.loads((sst2_run / "eval" / "test_metrics.json").read_text())
    assert saved["acc"] == pytest.approx(json.loads((sst2_run / "metrics.json").read_text())["test/acc"])
    assert "accuracy:" in result.stdout.decode() and "confusion (documents" in result.stdout.decode()
    odd = tmp_path / "odd.tsv"
    rows = (data_dir / "sst2" / "dev.tsv").read_text().splitlines()[:41]
    odd.write_text("\n".join(rows[:-1] + [rows[-1].rsplit("\t", 1)[0] + "\tneutral"]) + "\n")
    result = run("seqtag-eval", str(sst2_run), "--file", str(odd), "--text-column", "sentence", "--quiet",
                 "--output-dir", str(tmp_path))
    assert result.returncode == 0, result.stderr.decode()[-3000:]
    assert "gold labels the model does not know (scored as errors): neutral (1)" in result.stdout.decode()


def test_a_run_can_start_from_another_tasks_model(sst2_run: Path, data_dir: Path, hf_cache: Path,
                                                  tmp_path: Path):
    # SST-2 labels are "0"/"1", IMDB's "neg"/"pos": words and encoder carry over, the head does not
    out = tmp_path / "imdb"
    result = run_train("data=imdb", "model=classifier", "data.max_examples=200", "trainer.max_epochs=1",
                       "model.encoder.hidden_size=32", f"init_from={sst2_run}", f"hydra.run.dir={out}",
                       data_dir=data_dir, cache=hf_cache)
    assert result.returncode == 0, result.stderr[-3000:]
    line = next(line for line in (out / "train.log").read_text().splitlines() if "warm start from" in line)
    assert "model.pt" in line and "head.proj.weight" in line and " 0 tensors" not in line
    assert json.loads((out / "metrics.json").read_text())["test/acc"] > 0
