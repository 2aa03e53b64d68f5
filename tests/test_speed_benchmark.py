"""benchmarks/speed.py on a tiny inline corpus and a tiny model: the record's shape, not its speed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks import speed

SENTENCES = [
    "EU NNP B-NP B-ORG\nrejects VBZ B-VP O\nGerman JJ B-NP B-MISC\ncall NN I-NP O\n. . O O\n",
    "Peter NNP B-NP B-PER\nBlackburn NNP I-NP I-PER\n",
    "BRUSSELS NNP B-NP B-LOC\n1996-08-22 CD I-NP O\n",
    "The DT B-NP O\nEuropean NNP I-NP B-ORG\nCommission NNP I-NP I-ORG\nsaid VBD B-VP O\n. . O O\n",
]


@pytest.fixture
def tiny_cfg(tmp_path: Path, hf_cache: Path):
    corpus = tmp_path / "data" / "conll2003"
    corpus.mkdir(parents=True)
    text = "\n".join(SENTENCES * 3) + "\n"
    for name in ("train.txt", "valid.txt", "test.txt"):
        (corpus / name).write_text(text)
    return speed.compose_config([
        "experiment=conll2003_cnn_crf", f"paths.data_dir={tmp_path / 'data'}", f"paths.cache_dir={hf_cache}",
        "model.embedding.vectors=null", "model.embedding.dim=8", "model.embedding.chars.filters=6",
        "model.encoder.hidden_size=5", "data.batch_size=2", "trainer.enable_progress_bar=false",
    ], output_dir=str(tmp_path / "run"))


def _check_rates(figures: dict) -> None:
    assert figures["tokens"] > 0 and figures["sentences"] > 0 and figures["seconds"] > 0
    assert figures["tokens_per_s"] == pytest.approx(figures["tokens"] / figures["seconds"])
    assert figures["sentences_per_s"] == pytest.approx(figures["sentences"] / figures["seconds"])


def test_record_has_every_figure_and_consistent_rates(tiny_cfg, tmp_path: Path):
    results = tmp_path / "speed.jsonl"
    argv = ["--steps", "3", "--warmup", "1", "--trainer", "--batch-sizes", "1", "4", "--bs1-sentences", "3",
            "--device", "cpu", "--results", str(results)]
    options = speed.parser().parse_args(argv)
    figures = speed.run(tiny_cfg, options)
    entry = speed.record("python benchmarks/speed.py " + " ".join(argv), [], options, figures)
    speed.append(entry, results)

    saved = [json.loads(line) for line in results.read_text().splitlines()]
    assert len(saved) == 1 and saved[0]["command"] == entry["command"]
    for key in ("command", "commit", "date", "machine", "overrides", "options", "train", "train_lightning",
                "inference", "latency_bs1", "peak_rss_mb", "weights"):
        assert key in saved[0], key
    assert {"cpu", "cores", "torch", "torch_threads"} <= set(saved[0]["machine"])
    assert saved[0]["commit"]

    train = saved[0]["train"]
    _check_rates(train)
    assert train["steps"] == 3
    # 3 timed steps of batches of at most 2 sentences
    assert 3 <= train["sentences"] <= 6
    _check_rates(saved[0]["train_lightning"])
    assert set(saved[0]["inference"]) == {"1", "4"}
    for batch_size, figures in saved[0]["inference"].items():
        _check_rates(figures)
        assert figures["batch_size"] == int(batch_size)
    assert saved[0]["inference"]["1"]["sentences"] == 3
    assert saved[0]["inference"]["4"]["sentences"] == 12
    latency = saved[0]["latency_bs1"]
    assert latency["sentences"] == 3 and 0 < latency["p50_ms"] <= latency["p99_ms"]
    assert saved[0]["peak_rss_mb"] >= saved[0]["peak_rss_mb_after_train"] > 0
    assert "training, bare loop" in speed.table(saved[0])


def test_main_with_no_save_writes_nothing(tiny_cfg, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(speed, "compose_config", lambda overrides: tiny_cfg)
    results = tmp_path / "never.jsonl"
    entry = speed.main(["--steps", "0", "--batch-sizes", "2", "--bs1-sentences", "0", "--device", "cpu",
                        "--no-save", "--results", str(results)])
    assert not results.exists()
    assert "train" not in entry and set(entry["inference"]) == {"2"}


def test_installed_peers_run_in_their_own_interpreter(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    import sys

    peers = tmp_path / "peers"
    # a peer whose bench.py records the arguments it was given, in the JSON line speed.py reads
    (peers / "fake" / ".venv" / "bin").mkdir(parents=True)
    (peers / "fake" / ".venv" / "bin" / "python").symlink_to(sys.executable)
    (peers / "fake" / "bench.py").write_text(
        "import json, sys\n"
        "args = sys.argv[1:]\n"
        "out = args[args.index('--results') + 1]\n"
        "record = {'peer': 'fake', 'argv': args, 'python': sys.executable, 'peak_rss_mb': 1.0,\n"
        "          'train': {'tokens_per_s': 123.0}, 'inference': {'256': {'tokens_per_s': 456.0}}}\n"
        "open(out, 'a').write(json.dumps(record) + '\\n')\n")
    (peers / "absent").mkdir()
    (peers / "absent" / "bench.py").write_text("raise SystemExit(3)\n")
    (peers / "broken" / ".venv" / "bin").mkdir(parents=True)
    (peers / "broken" / ".venv" / "bin" / "python").symlink_to(sys.executable)
    (peers / "broken" / "bench.py").write_text("raise SystemExit(3)\n")
    monkeypatch.setattr(speed, "PEERS", peers)
    monkeypatch.setattr(speed, "ROOT", tmp_path)
    options = speed.parser().parse_args(["--steps", "7", "--batch-sizes", "1", "256", "--peers"])
    found = speed.run_peers(options)
    assert found["fake"]["argv"][-4:] == ["--train-steps", "7", "--batch-sizes", "256"]
    assert found["fake"]["python"].endswith("fake/.venv/bin/python")
    assert found["absent"] == {"skipped": "not installed: bash peers/absent/setup.sh"}
    assert found["broken"]["failed"].startswith("exit status 3")
    text = speed.table({"setup_seconds": 1.0, "peak_rss_mb": 2.0, "peers": found})
    assert any(line.startswith("peer fake: training tokens/s") and line.endswith(" 123")
               for line in text.splitlines())
    assert "peer fake: inference batch 256, tokens/s" in text and "not installed" in text
