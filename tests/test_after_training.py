"""seqtag-eval and seqtag-predict as a user runs them, on a model trained on a slice of CoNLL-2003."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from seqtag.tasks import EntityTagging, TokenTagging
from seqtag.vocab import Vocab, Vocabularies
from tests.test_train_e2e import run_train

BIN = Path(sys.executable).parent
SENTENCES = 600


def _script(name: str) -> str:
    found = shutil.which(name, path=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    assert found, f"the {name} console script is not installed (pip install -e .)"
    return found


def run(name: str, *args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    return subprocess.run([_script(name), *args], input=stdin, capture_output=True, env=env, timeout=600)


def _first_sentences(source: Path, target: Path, count: int) -> None:
    blocks = source.read_text(encoding="utf-8").split("\n\n")
    target.write_text("\n\n".join(blocks[:count]) + "\n\n", encoding="utf-8")


@pytest.fixture(scope="module")
def run_dir(data_dir: Path, hf_cache: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    small = tmp_path_factory.mktemp("data")
    (small / "conll2003").mkdir()
    for name in ("train.txt", "valid.txt", "test.txt"):
        _first_sentences(data_dir / "conll2003" / name, small / "conll2003" / name, SENTENCES)
    out = tmp_path_factory.mktemp("run")
    result = run_train("trainer.max_epochs=4", "model.encoder.hidden_size=64", "model.optimizer.lr=0.01",
                       f"hydra.run.dir={out}", data_dir=small, cache=hf_cache)
    assert result.returncode == 0, result.stderr[-3000:]
    return out


def test_eval_of_the_run_reproduces_its_test_score(run_dir: Path, tmp_path: Path):
    preds = tmp_path / "preds.txt"
    result = run("seqtag-eval", str(run_dir), "--quiet", "--predictions", str(preds))
    assert result.returncode == 0, result.stderr.decode()[-3000:]
    saved = json.loads((run_dir / "eval" / "test_metrics.json").read_text())
    trained = json.loads((run_dir / "metrics.json").read_text())
    assert saved["f1"] == pytest.approx(trained["test/f1"], abs=1e-6)
    assert trained["test/f1"] > 0.3
    report = (run_dir / "eval" / "test_report.txt").read_text()
    assert "micro avg" in report and "most frequent confusions" in report
    lines = preds.read_text(encoding="utf-8").split("\n")
    rows = [line.split(" ") for line in lines if line]
    assert all(len(row) == 3 for row in rows)
    scored = int(report.split(" examples,")[0].rsplit(" ", 1)[1])
    assert 0 < scored <= SENTENCES
    assert sum(1 for line in lines[:-1] if not line) == scored  # one blank line after each sentence


def test_eval_of_a_file_reports_unknown_tags_as_errors(run_dir: Path, data_dir: Path, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture):
    from seqtag.evaluate import main as evaluate  # in-process: the console script is run above

    clean = tmp_path / "clean.txt"
    _first_sentences(data_dir / "conll2003" / "valid.txt", clean, 60)
    odd = tmp_path / "odd.txt"
    text = clean.read_text(encoding="utf-8")
    odd.write_text(text.replace(" B-PER\n", " B-PERSON\n", 3).replace(" I-PER\n", " WEIRD\n", 1),
                   encoding="utf-8")
    scores = {}
    for path in (clean, odd):
        evaluate([str(run_dir), "--file", str(path), "--quiet", "--output-dir", str(tmp_path / "eval")])
        scores[path.stem] = json.loads((tmp_path / "eval" / f"{path.stem}_metrics.json").read_text())
        output = capsys.readouterr().out
    # the unknown tags as the file writes them (WEIRD, though it is scored as a B-WEIRD chunk)
    assert "gold labels the model does not know (scored as errors): B-PERSON (3), WEIRD (1)" in output
    assert scores["odd"]["unknown_tags"] == {"B-PERSON": 3, "WEIRD": 1}
    assert scores["odd"]["recall"] < scores["clean"]["recall"]


def test_bad_inputs_are_clear(run_dir: Path, tmp_path: Path):
    """One line, no traceback, from the console scripts (more cases in-process in test_predict_cli)."""
    not_a_model = tmp_path / "x.ckpt"
    not_a_model.write_bytes(b"\x00garbage")
    for name, args, expected in [
        ("seqtag-eval", (str(run_dir), "--file", str(tmp_path / "missing.conll")),
         "missing.conll: no such file"),
        ("seqtag-predict", (str(not_a_model),), "x.ckpt: not a seqtag model"),
    ]:
        result = run(name, *args, "--quiet", stdin=b"")
        assert result.returncode != 0
        assert b"Traceback" not in result.stderr
        assert expected in result.stderr.decode()


def test_predict_raw_text_keeps_every_line(run_dir: Path, tmp_path: Path):
    text = (b"EU rejects German call to boycott British lamb .\n\n"
            b"Peter Blackburn \xff went to BRUSSELS\x07 .\n" + b"word " * 10_000 + b"\n")
    result = run("seqtag-predict", str(run_dir), "--format", "jsonl", stdin=text)
    assert result.returncode == 0, result.stderr.decode()[-3000:]
    assert b"line 3: invalid UTF-8" in result.stderr
    records = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert len(records) == 4  # one per input line, the empty one included
    assert records[0]["tokens"][:2] == ["EU", "rejects"] and records[1]["tokens"] == []
    assert records[2]["tokens"][2] == "\ufffd" and "BRUSSELS" in records[2]["tokens"]
    assert len(records[3]["tags"]) == 10_000
    for record in records:
        for entity in record["entities"]:
            assert record["text"][entity["start_char"] : entity["end_char"]] == entity["text"]


def test_predict_tokenized_file_to_conll(run_dir: Path, tmp_path: Path):
    source = tmp_path / "tokens.txt"
    source.write_text("-DOCSTART- -X- O\n\nEU\nrejects\n\nPeter\nBlackburn\n")
    out = tmp_path / "out.conll"
    result = run("seqtag-predict", str(run_dir), str(source), "--tokenized", "--output", str(out))
    assert result.returncode == 0, result.stderr.decode()[-3000:]
    sentences = [block.splitlines() for block in out.read_text().strip().split("\n\n")]
    tokens = [[row.split("\t")[0] for row in s] for s in sentences]
    assert tokens == [["EU", "rejects"], ["Peter", "Blackburn"]]


def test_gold_tags_in_iob1_and_accuracy_report():
    task = EntityTagging()
    gold = task.gold([{"tokens": ["a", "b", "c"], "tags": ["I-PER", "I-PER", "O"]}])
    assert gold == [["B-PER", "I-PER", "O"]]
    words = Vocab(["<pad>", "<unk>"], unk="<unk>")
    known = task.known_labels(Vocabularies(words, Vocab(["O", "B-PER", "I-PER"]), scheme="iob2"))
    assert {"O", "B-PER", "I-PER", "E-PER", "S-PER"} <= known and "B-LOC" not in known
    # a tag without an IOB prefix is a chunk no prediction can match
    assert task.gold([{"tokens": ["a"], "tags": ["WEIRD"]}]) == [["B-WEIRD"]]
    scores, report = TokenTagging().score([["NOUN", "VERB", "X"]], [["NOUN", "NOUN", "X"]])
    assert scores["acc"] == pytest.approx(2 / 3)
    assert "accuracy: 0.6667 (2 / 3 tokens)" in report
