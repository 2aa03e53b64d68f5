"""A run resumed from an epoch's checkpoint ends exactly like one never interrupted.

The fast in-process guard of the per-epoch reseed (``on_train_batch_start`` of the
models draws each epoch's dropout from the run's seed and the epoch alone). The
slow SIGKILL test in ``test_train_e2e.py`` checks the same through the CLI on real
data; this one trains a tiny model on an inline corpus through ``seqtag.train.train``
with command-line style overrides only, so it keeps working as the internals change.
"""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import pytest
import torch
from hydra import compose, initialize_config_dir

from seqtag.train import train

CONFIG_DIR = Path(__file__).resolve().parent.parent / "conf"
WORDS = ["the", "a", "of", "in", "and", "to", "said", "on", "was", "for", "with", "at", "by", "from"]
NAMES = {"PER": ["John", "Mary", "Smith", "Ana"], "LOC": ["Paris", "Berlin", "Peru", "Oslo"]}


def _write_corpus(root: Path) -> Path:
    """Random sentences in two columns (word, IOB2 tag): train 48, dev 12, test 12."""
    rng = random.Random(0)
    root.mkdir(parents=True)
    for name, count in (("train.txt", 48), ("dev.txt", 12), ("test.txt", 12)):
        lines = []
        for _ in range(count):
            for _ in range(rng.randint(2, 9)):
                if rng.random() < 0.25:
                    kind = rng.choice(sorted(NAMES))
                    for i in range(rng.randint(1, 2)):
                        lines.append(f"{rng.choice(NAMES[kind])} {'B' if i == 0 else 'I'}-{kind}")
                else:
                    lines.append(f"{rng.choice(WORDS)} O")
            lines.append("")
        (root / name).write_text("\n".join(lines) + "\n")
    return root


def _train(corpus: Path, output_dir: Path, *overrides: str) -> dict[str, float]:
    """``seqtag-train <overrides>``, in this process."""
    with initialize_config_dir(str(CONFIG_DIR), version_base="1.3"):
        cfg = compose("train", overrides=[
            "data=column", f"data.corpus.root={corpus}", "data.corpus.files.train=train.txt",
            "data.corpus.files.validation=dev.txt", "data.corpus.files.test=test.txt",
            f"data.cache_dir={corpus.parent / 'cache'}", "data.batch_size=4",
            "model/embedding=random", "model.embedding.dim=8", "model.embedding.dropout=0.5",
            "model.embedding.word_dropout=0.2", "model.encoder.hidden_size=8",
            "model.optimizer.lr=0.05", "logger=csv", "trainer.accelerator=cpu", "trainer.devices=1",
            "trainer.enable_progress_bar=false", "++trainer.enable_model_summary=false",
            "trainer.num_sanity_val_steps=0", "seed=3",
            f"paths.output_dir={output_dir}", *overrides,
        ])
    metrics = train(cfg)
    return {k: v for k, v in metrics.items() if not k.startswith("perf/")}  # timings differ


def _weights(run: Path) -> dict[str, torch.Tensor]:
    checkpoint = torch.load(run / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=False)
    return checkpoint["state_dict"]


def test_resumed_run_ends_like_an_uninterrupted_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    for name in ("PL_GLOBAL_SEED", "PL_SEED_WORKERS"):  # set by seed_everything; restored after the test
        monkeypatch.setenv(name, "0")
    corpus = _write_corpus(tmp_path / "corpus")

    whole = _train(corpus, tmp_path / "whole", "trainer.max_epochs=2")

    _train(corpus, tmp_path / "first", "trainer.max_epochs=1")
    shutil.copytree(tmp_path / "first", tmp_path / "resumed")
    resumed = _train(corpus, tmp_path / "resumed", "trainer.max_epochs=2",
                     f"ckpt_path={tmp_path / 'resumed' / 'checkpoints' / 'last.ckpt'}")

    assert whole["train/loss_epoch"] > 0  # the comparison compares something
    assert resumed == whole
    whole_weights, resumed_weights = _weights(tmp_path / "whole"), _weights(tmp_path / "resumed")
    assert whole_weights.keys() == resumed_weights.keys()
    for name, value in whole_weights.items():
        assert torch.equal(value, resumed_weights[name]), name
    # and the weights did move in the second epoch, so its random draws mattered
    first_weights = _weights(tmp_path / "first")
    assert any(not torch.equal(v, first_weights[k]) for k, v in whole_weights.items())
