"""Every preset and group option composes, and its targets build real objects."""

from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from hydra.utils import get_method, instantiate
from omegaconf import OmegaConf

from seqtag.data.datamodule import DataModule
from seqtag.models.tagger import SequenceTagger
from seqtag.tasks import DocumentClassification, EntityTagging, Task
from seqtag.vocab import Vocab, Vocabularies
from tests.conftest import CONFIG_DIR

EXPERIMENTS = sorted(p.stem for p in (CONFIG_DIR / "experiment").glob("*.yaml"))
# every option of model/encoder, the IMDB table's rows (imdb_row/...) included; rnn_base is what they extend
ENCODERS = sorted(
    p.relative_to(CONFIG_DIR / "model" / "encoder").with_suffix("").as_posix()
    for p in (CONFIG_DIR / "model" / "encoder").rglob("*.yaml") if p.stem != "rnn_base"
)
VOCABS = Vocabularies(
    Vocab(["<pad>", "<unk>", "the", "paris"], unk="<unk>"), Vocab(["O", "B-LOC", "I-LOC"]), "iob2",
    chars=Vocab(["<pad>", "<unk>", "t", "h", "e"], unk="<unk>"),
)
EMBEDDINGS = sorted(
    p.stem for p in (CONFIG_DIR / "model" / "embedding").glob("*.yaml") if p.stem != "glove_file"
)
HEADS = sorted(p.stem for p in (CONFIG_DIR / "model" / "head").glob("*.yaml") if p.stem != "pool")


def _compose(*overrides: str, tmp_path: Path):
    with initialize_config_dir(str(CONFIG_DIR), version_base="1.3"):
        return compose("train", overrides=[f"paths.output_dir={tmp_path}", *overrides])


def _model(cfg, vocabs: Vocabularies = VOCABS, task: Task | None = None):
    """The model of a composed config, as seqtag-train builds it."""
    config = OmegaConf.to_container(cfg.model, resolve=True)
    return instantiate(config, _partial_=True)(task=task or EntityTagging(), vocabs=vocabs)


def test_experiment_presets_exist():
    assert {"conll2003", "ud_ewt_pos", "quickstart"} <= set(EXPERIMENTS)


@pytest.mark.parametrize("experiment", EXPERIMENTS)
def test_experiment_composes_and_resolves(experiment: str, tmp_path: Path):
    cfg = _compose(f"experiment={experiment}", tmp_path=tmp_path)
    OmegaConf.resolve(cfg)
    for node in (cfg.data, cfg.data.corpus, cfg.model, cfg.trainer):
        assert callable(get_method(node._target_))
    assert cfg.monitor == f"val/{cfg.data.task.metric}"
    assert cfg.callbacks.model_checkpoint.monitor == cfg.monitor
    data = instantiate(cfg.data)
    assert isinstance(data, DataModule) and data.task.metric == cfg.data.task.metric
    # classifiers read documents, taggers sentences
    assert isinstance(data.task, DocumentClassification) == cfg.model._target_.endswith("SequenceClassifier")


@pytest.mark.parametrize("encoder", ENCODERS)
def test_every_encoder_builds_a_model(encoder: str, tmp_path: Path):
    cfg = _compose(f"model/encoder={encoder}", "model/embedding=random", tmp_path=tmp_path)
    model = _model(cfg)
    assert isinstance(model, SequenceTagger)
    assert model.encoder.rnn.mode.lower().startswith(cfg.model.encoder.cell)
    assert model.encoder.rnn.bidirectional == cfg.model.encoder.bidirectional


def test_glove_embedding_builds_with_pretrained_rows(tmp_path: Path):
    cfg = _compose(tmp_path=tmp_path)
    model = _model(cfg)
    assert model.embedding.embedding.weight.shape[1] == 50
    assert model.embedding.output_dim == 50 + cfg.model.embedding.casing_dim
    assert model.embedding.coverage == 1.0  # 'the' and 'paris' are in GloVe 6B


def test_command_line_overrides_reach_the_objects(tmp_path: Path):
    cfg = _compose("model.encoder.hidden_size=17", "model.encoder.num_layers=2", "model.optimizer.lr=0.5",
                   "model/embedding=random", tmp_path=tmp_path)
    model = _model(cfg)
    assert model.encoder.output_dim == 34
    assert model.encoder.rnn.num_layers == 2
    assert model.configure_optimizers().param_groups[0]["lr"] == 0.5


def test_data_dir_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.setenv("SEQTAG_DATA_DIR", "/somewhere/corpora")
    cfg = _compose(tmp_path=tmp_path)
    assert cfg.data.corpus.root == "/somewhere/corpora/conll2003"
    cfg = _compose("paths.data_dir=/elsewhere", tmp_path=tmp_path)
    assert cfg.data.corpus.root == "/elsewhere/conll2003"


def test_optimizer_and_scheduler_groups(tmp_path: Path):
    cfg = _compose("model/optimizer=sgd", "model/scheduler=plateau", "model/embedding=random",
                   tmp_path=tmp_path)
    model = _model(cfg)
    configured = model.configure_optimizers()
    assert type(configured["optimizer"]).__name__ == "SGD"
    assert configured["optimizer"].param_groups[0]["momentum"] == 0.9
    assert type(configured["lr_scheduler"]["scheduler"]).__name__ == "ReduceLROnPlateau"
    assert configured["lr_scheduler"]["monitor"] == "val/f1"


@pytest.mark.parametrize("embedding", EMBEDDINGS)
@pytest.mark.parametrize("head", HEADS)
def test_every_embedding_and_head_builds_and_runs(embedding: str, head: str, tmp_path: Path):
    import torch

    overrides = [f"model/embedding={embedding}", f"model/head={head}"]
    if embedding.endswith("_plus_file"):  # a second set of vectors, from a file
        (tmp_path / "v.txt").write_text("the 1 2 3\nparis 4 5 6\n")
        overrides.append(f"model.embedding.extra_vectors.path={tmp_path / 'v.txt'}")
    cfg = _compose(*overrides, tmp_path=tmp_path)
    model = _model(cfg)
    if embedding.endswith("_plus_file"):
        assert model.embedding.extra.weight.shape[1] == 3
    batch = {
        "words": torch.tensor([[2, 3, 1]]), "tags": torch.tensor([[1, 2, 0]]),
        "case": torch.tensor([[3, 3, 3]]), "chars": torch.tensor([[[2, 3, 4], [2, 0, 0], [1, 0, 0]]]),
        "mask": torch.ones(1, 3, dtype=torch.bool), "lengths": torch.tensor([3]),
    }
    loss = model.head.loss(model(batch), batch["tags"], batch["mask"])
    loss.backward()
    assert torch.isfinite(loss)
    assert (model.embedding.chars is not None) == embedding.startswith("word_char")


@pytest.mark.parametrize("pooling", ["last", "mean", "max", "attention", "flatten"])
@pytest.mark.parametrize(("encoder", "merge"), [("birnn", "concat"), ("bilstm", "sum"), ("bigru", "mul"),
                                                ("bilstm", "ave"), ("lstm", "concat")])
def test_classifier_builds_and_runs_with_every_pooling_and_merge(pooling, encoder, merge, tmp_path):
    import torch

    from seqtag.models.classifier import SequenceClassifier

    cfg = _compose("data=imdb", "model=classifier", f"model/encoder={encoder}",
                   f"model.head.pooling={pooling}", "model.encoder.hidden_size=6", "data.task.max_length=5",
                   "model/embedding=random",
                   f"model.encoder.merge={merge}", tmp_path=tmp_path)
    labels = Vocabularies(VOCABS.words, Vocab(["neg", "pos"]))
    model = _model(cfg, labels, DocumentClassification(max_length=5, positive="pos"))
    assert isinstance(model, SequenceClassifier)
    bidirectional = cfg.model.encoder.bidirectional
    assert model.encoder.output_dim == 6 * (2 if bidirectional and merge == "concat" else 1)
    batch = {"words": torch.tensor([[2, 3, 1], [3, 0, 0]]), "case": torch.zeros(2, 3, dtype=torch.long),
             "mask": torch.tensor([[True] * 3, [True, False, False]]), "lengths": torch.tensor([3, 1]),
             "label": torch.tensor([1, 0])}
    logits = model(batch)
    assert logits.shape == (2, 2)
    loss = model.head.loss(logits, batch["label"])
    loss.backward()
    assert torch.isfinite(loss)


def test_language_model_objective_is_a_config_choice(tmp_path: Path):
    cfg = _compose("model/lm=next_word", "model.lm.vocab_size=3", "model/embedding=random", tmp_path=tmp_path)
    model = _model(cfg)
    assert model.lm is not None and model.lm.vocab_size == 3 and model.lm.previous_word is not None
    assert _model(_compose("model/embedding=random", tmp_path=tmp_path)).lm is None
