"""Evaluation under DDP scores every sentence exactly once, even with fewer batches than ranks.

With one evaluation batch and two ranks, sharding whole batches left rank 1 with
none: Lightning refused its empty loader ("DataLoader within local rank has zero
length") and rank 0 died in the metrics' gather. The sampler now cuts such a
split into one smaller batch per rank; a split with fewer sentences than ranks is
a clear error.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from seqtag.data.batching import BucketBatchSampler

ROOT = Path(__file__).resolve().parent.parent
SEQTAG_TRAIN = shutil.which(
    "seqtag-train", path=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
)


def _shards(lengths: list[int], batch_size: int, world: int, monkeypatch: pytest.MonkeyPatch):
    """Each rank's evaluation batches, as that rank's sampler yields them."""
    shards = []
    for rank in range(world):
        sampler = BucketBatchSampler(lengths, batch_size=batch_size, shuffle=False, seed=1)
        monkeypatch.setattr(sampler, "_replicas", lambda rank=rank: (rank, world))
        batches = list(sampler)
        assert len(batches) == len(sampler), (rank, world)
        shards.append(batches)
    return shards


@pytest.mark.parametrize("world", [1, 2, 3, 4, 8])
@pytest.mark.parametrize(("n", "batch_size"), [
    (0, 256), (1, 256), (2, 256), (3, 256), (7, 256), (200, 256), (256, 256), (257, 256),
    (513, 256), (1000, 256), (5, 2), (9, 4), (17, 4), (64, 8),
])
def test_eval_shards_hold_every_sentence_once(n: int, batch_size: int, world: int,
                                              monkeypatch: pytest.MonkeyPatch):
    lengths = [(i * 7919) % 23 + 1 for i in range(n)]
    if 0 < n < world:
        # some rank would have no sentence at all: a clear error on every rank, not a hang
        with pytest.raises(ValueError, match="cannot be shared by"):
            _shards(lengths, batch_size, world, monkeypatch)
        return
    shards = _shards(lengths, batch_size, world, monkeypatch)
    flat = sorted(i for batches in shards for batch in batches for i in batch)
    assert flat == list(range(n))  # each sentence on exactly one rank, none dropped, none doubled
    assert all(1 <= len(batch) <= batch_size for batches in shards for batch in batches)
    if n > 0:
        # no rank without a batch: Lightning refuses a loader empty on one rank only
        assert all(len(batches) >= 1 for batches in shards)
    if -(-n // batch_size) >= world:
        # enough batches for every rank: the ranks share the batches of a single process
        single = _shards(lengths, batch_size, 1, monkeypatch)[0]
        assert [b for rank in range(world) for b in single[rank::world]] == [
            b for batches in shards for b in batches]


def test_one_batch_over_two_ranks_is_split_by_sentences(monkeypatch: pytest.MonkeyPatch):
    # lengths within 20 % of each other: one batch in a single process
    shards = _shards([10, 11, 12, 10, 11], batch_size=256, world=2, monkeypatch=monkeypatch)
    assert [[len(b) for b in batches] for batches in shards] == [[3], [2]]
    assert shards[0][0] == [0, 3, 1]  # still sorted by length: the 3 shortest, then the 2 longest
    assert shards[1][0] == [4, 2]
    # lengths far apart make batches of their own, enough for both ranks
    shards = _shards([5, 3, 9, 1, 4], batch_size=256, world=2, monkeypatch=monkeypatch)
    assert shards == [[[2], [4], [3]], [[0], [1]]]


def test_training_shards_stay_equal_in_steps(monkeypatch: pytest.MonkeyPatch):
    lengths = [(i * 31) % 17 + 1 for i in range(37)]
    counts = []
    for rank in range(3):
        sampler = BucketBatchSampler(lengths, batch_size=4, shuffle=True, seed=0, pool_batches=2)
        monkeypatch.setattr(sampler, "_replicas", lambda rank=rank: (rank, 3))
        counts.append(len(list(sampler)))
    assert counts == [3, 3, 3]  # 10 batches: 3 each, equal steps for DDP's gradient sync


# --- end to end: two CPU processes ------------------------------------------------------------

NAMES = ["Paris", "Berlin", "Oslo", "Lima", "Rome", "Cairo", "Quito"]
FILLER = ["the", "city", "of", "is", "big", "and", "old", "we", "saw"]


def _sentence(i: int) -> list[str]:
    """A sentence of 1 + (i % 6) filler words around exactly one LOC entity."""
    words = [FILLER[(i + j) % len(FILLER)] for j in range(1 + i % 6)]
    cut = i % (len(words) + 1)
    return [f"{w} O" for w in words[:cut]] + [f"{NAMES[i % len(NAMES)]} B-LOC"] + [
        f"{w} O" for w in words[cut:]]


def _write(path: Path, count: int, offset: int) -> None:
    path.write_text("".join("\n".join(_sentence(offset + i)) + "\n\n" for i in range(count)))


def _support(report: str) -> int:
    """Gold entities counted by seqeval's report (its micro average's support)."""
    micro = next(line for line in report.splitlines() if "micro avg" in line)
    return int(micro.split()[-1])


def test_ddp_with_one_evaluation_batch_scores_every_sentence_once(tmp_path: Path):
    assert SEQTAG_TRAIN, "the seqtag-train console script is not installed (pip install -e .)"
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    # every sentence holds one entity, so seqeval's support counts the sentences scored.
    # eval_batch_size 256: validation is a single batch (fewer batches than ranks), test
    # three (256, 256, 89: more than ranks, not a multiple of them, the last one partial)
    _write(corpus / "train.txt", 16, 0)
    _write(corpus / "dev.txt", 5, 1000)
    _write(corpus / "test.txt", 601, 2000)
    run_dir = tmp_path / "run"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1",
           "SEQTAG_CACHE_DIR": str(tmp_path / "cache"),
           # this checkout's code, in the launcher and in the process DDP starts for rank 1
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    command = [
        SEQTAG_TRAIN, "trainer=ddp", "trainer.accelerator=cpu", "trainer.devices=2",
        "data=column", f"data.corpus.root={corpus}", "data.corpus.files.train=train.txt",
        "data.corpus.files.validation=dev.txt", "data.corpus.files.test=test.txt",
        "data.batch_size=4", "data.eval_batch_size=256", "model/embedding=random",
        "model.embedding.dim=8", "model.encoder.hidden_size=8", "trainer.max_epochs=1",
        "logger=csv", "trainer.enable_progress_bar=false", f"hydra.run.dir={run_dir}",
    ]
    # DDP starts a process per rank: through the command line, as a user runs it, in a
    # session of its own so that a hang (ranks waiting on each other) kills every rank
    process = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        _, stderr = process.communicate(timeout=300)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        _, stderr = process.communicate()
        pytest.fail(f"DDP run hung:\n{stderr[-3000:]}")
    assert process.returncode == 0, stderr[-3000:]
    # one run folder, not one per rank
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_dir() and p.name != "cache") == ["corpus", "run"]
    assert _support((run_dir / "val_report.txt").read_text()) == 5
    assert _support((run_dir / "test_report.txt").read_text()) == 601
    assert (run_dir / "metrics.json").is_file()
