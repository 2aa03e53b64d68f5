"""``seqtag-vectors``: word2vec from a corpus' training documents only, readable by seqtag-train."""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from seqtag.data.vectors import VectorsFile

ROOT = Path(__file__).resolve().parent.parent
SEQTAG_VECTORS = shutil.which(
    "seqtag-vectors", path=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
)


def _word(i: int) -> str:
    return "doc" + "abcdefghij"[i // 10] + "abcdefghij"[i % 10]


def _write(path: Path, rows: list[tuple[str, str]]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label"])
        writer.writerows(rows)


def _vectors(tmp_path: Path, *overrides: str) -> subprocess.CompletedProcess:
    assert SEQTAG_VECTORS, "the seqtag-vectors console script is not installed (pip install -e .)"
    env = {**os.environ, "SEQTAG_DATA_DIR": str(tmp_path / "data"),
           "SEQTAG_CACHE_DIR": str(tmp_path / "cache"), "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    return subprocess.run([SEQTAG_VECTORS, *overrides], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=300)


def test_vectors_come_from_training_documents_only(tmp_path: Path):
    pytest.importorskip("gensim")
    corpus = tmp_path / "data" / "imdb"
    corpus.mkdir(parents=True)
    train = [(f"A great<br />film , truly great {_word(i)} .", "pos") for i in range(20)]
    train += [(f"An AWFUL film , truly awful {_word(i)} .", "neg") for i in range(20, 40)]
    _write(corpus / "train.csv", train)
    _write(corpus / "test.csv", [("testonlyword film", "pos"), ("another testonlyword", "neg")])
    output = tmp_path / "w2v.txt"
    result = _vectors(tmp_path, "data=imdb", "data.val_fraction=0.25", f"output={output}",
                      "word2vec.vector_size=8", "word2vec.min_count=1", "word2vec.workers=1",
                      f"hydra.run.dir={tmp_path / 'run'}")
    assert result.returncode == 0, result.stderr[-3000:]
    vectors = VectorsFile(str(output), lowercase=False, digits_to_zero=False)
    assert vectors.dim == 8
    # tokenised as seqtag-train does: lowercased, <br /> removed, punctuation apart
    assert all(w in vectors for w in ("great", "film", "awful", ","))
    assert "AWFUL" not in vectors and "br" not in vectors and "testonlyword" not in vectors
    # each review has its own word: the 10 validation reviews (a quarter, carved as
    # seqtag-train carves them) are not read, the 30 training ones are
    assert sum(_word(i) in vectors for i in range(40)) == 30


def test_tagging_corpus_is_refused_with_one_clear_line(tmp_path: Path):
    pytest.importorskip("gensim")
    (tmp_path / "data").mkdir()
    result = _vectors(tmp_path, "data=conll2003", f"hydra.run.dir={tmp_path / 'run'}")
    assert result.returncode != 0
    assert "seqtag-vectors reads document corpora" in result.stderr
    assert "Traceback" not in result.stderr
