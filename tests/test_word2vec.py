"""``seqtag-vectors``: word2vec from any corpus' training split only (DataModule.training_tokens()),
readable by seqtag-train."""

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


CONLL = {  # word POS chunk NER, as data=conll2003 reads them
    "train.txt": ("-DOCSTART- -X- -X- O\n\n"
                  + "".join(f"EU NNP B-NP B-ORG\nrejects VBZ B-VP O\n{_word(i)} NN I-NP O\n.  . O O\n\n"
                            for i in range(20))),
    "valid.txt": "Validonlyword NNP B-NP B-ORG\nrejects VBZ B-VP O\n\n",
    "test.txt": "Testonlyword NNP B-NP B-LOC\nrejects VBZ B-VP O\n\n",
}


def _conll(root: Path) -> None:
    root.mkdir(parents=True)
    for name, text in CONLL.items():
        (root / name).write_text(text, encoding="utf-8")


def test_training_tokens_of_a_tagging_corpus_are_its_training_sentences(tmp_path: Path):
    from seqtag.data.corpus import ColumnCorpus
    from seqtag.data.datamodule import DataModule
    from seqtag.tasks import EntityTagging

    _conll(tmp_path / "conll")
    files = {"train": "train.txt", "validation": "valid.txt", "test": "test.txt"}
    corpus = ColumnCorpus(str(tmp_path / "conll"), files, tag_column=3)
    tokens = DataModule(EntityTagging(), corpus, cache_dir=str(tmp_path / "cache")).training_tokens()
    assert tokens == [["EU", "rejects", _word(i), "."] for i in range(20)]
    # without a validation file, the held-out sentences (as seqtag-train carves them) are not read
    del files["validation"]
    dm = DataModule(EntityTagging(), ColumnCorpus(str(tmp_path / "conll"), files, tag_column=3),
                    cache_dir=str(tmp_path / "cache"), val_fraction=0.25)
    tokens = dm.training_tokens()
    assert len(tokens) == 15
    dm.setup()
    assert [dm.vocabs.word_indices(t) for t in tokens] == [ex["words"].tolist() for ex in dm.splits["train"]]


def test_vectors_of_a_tagging_corpus_come_from_its_training_sentences(tmp_path: Path):
    pytest.importorskip("gensim")
    _conll(tmp_path / "data" / "conll2003")
    output = tmp_path / "w2v.txt"
    # in-process (the command line is tested above, with a document corpus)
    from hydra import compose, initialize_config_module

    from seqtag.word2vec import train_vectors

    with initialize_config_module("seqtag.conf", version_base="1.3"):
        cfg = compose("vectors", overrides=[
            "data=conll2003", f"paths.data_dir={tmp_path / 'data'}", f"paths.cache_dir={tmp_path / 'cache'}",
            f"output={output}", "word2vec.vector_size=8", "word2vec.min_count=1", "word2vec.workers=1"])
    assert train_vectors(cfg) == output
    vectors = VectorsFile(str(output), lowercase=False, digits_to_zero=False)
    assert vectors.dim == 8
    # the training sentences' tokens as they are (a tagger keeps case), every one of them
    assert all(w in vectors for w in ("EU", "rejects", "."))
    assert sum(_word(i) in vectors for i in range(20)) == 20
    # never the words of the validation or test files, nor the tags
    assert "Validonlyword" not in vectors and "Testonlyword" not in vectors
    assert "B-ORG" not in vectors and "NNP" not in vectors
