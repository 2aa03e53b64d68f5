"""init_from: a run starts from another saved model's weights, matched by word and label."""

from __future__ import annotations

import pytest
import torch
from hydra import compose, initialize_config_dir
from hydra.utils import instantiate
from omegaconf import OmegaConf

from seqtag.errors import ModelLoadError
from seqtag.warm_start import warm_start
from tests.conftest import CONFIG_DIR

SOURCE = """Peter B-PER
visited O
Paris B-LOC
. O

Anna B-PER
left O
Berlin B-LOC
. O
"""

# shares "Peter", "Paris", "." with SOURCE; "Rome", "saw" are new
SAME_LABELS = """Peter B-PER
saw O
Rome B-LOC
. O

Anna B-PER
visited O
Paris B-LOC
. O
"""

OTHER_LABELS = """Peter B-PER
saw O
Siemens B-ORG
. O
"""


def _model(tmp_path, text: str, name: str, hidden: int = 8, dim: int = 6):
    root = tmp_path / name
    root.mkdir()
    for split in ("train.txt", "dev.txt", "test.txt"):
        (root / split).write_text(text)
    overrides = [
        "data=column", f"data.corpus.root={root}", f"data.cache_dir={root / 'cache'}",
        "model/embedding=random", f"model.embedding.dim={dim}", "model.embedding.casing_dim=0",
        f"model.encoder.hidden_size={hidden}", "paths.output_dir=/tmp/unused",
    ]
    with initialize_config_dir(str(CONFIG_DIR), version_base="1.3"):
        cfg = compose("train", overrides=overrides)
    datamodule = instantiate(cfg.data)
    datamodule.setup("fit")
    return instantiate(OmegaConf.to_container(cfg.model, resolve=True), _partial_=True)(
        task=datamodule.task, vocabs=datamodule.vocabs)


def _row(model, word: str) -> torch.Tensor:
    return model.embedding.embedding.weight[model.vocabs.words.index(word)]


@pytest.fixture
def source(tmp_path):
    torch.manual_seed(1)
    model = _model(tmp_path, SOURCE, "source")
    return model, model.save(tmp_path / "source.pt")


def test_words_are_matched_by_spelling_and_the_encoder_is_copied(tmp_path, source):
    old, path = source
    torch.manual_seed(2)
    new = _model(tmp_path, SAME_LABELS, "target")
    rome_before = _row(new, "Rome").clone()
    assert new.vocabs.words.index("Paris") != old.vocabs.words.index("Paris")

    counts = warm_start(new, path)

    for word in ("Peter", "Paris", "Anna", "."):
        assert torch.equal(_row(new, word), _row(old, word))
    assert torch.equal(_row(new, "Rome"), rome_before)  # not in the source: left as it was
    for name, param in old.encoder.named_parameters():
        assert torch.equal(dict(new.encoder.named_parameters())[name], param)
    assert torch.equal(new.head.proj.weight, old.head.proj.weight)  # same labels: head copied
    assert counts["rows"] >= 4 and counts["skipped"] == 0


def test_a_head_for_other_labels_is_left_alone(tmp_path, source):
    old, path = source
    new = _model(tmp_path, OTHER_LABELS, "target")
    head_before = new.head.proj.weight.clone()
    counts = warm_start(new, path)
    assert torch.equal(new.head.proj.weight, head_before)
    assert torch.equal(_row(new, "Peter"), _row(old, "Peter"))
    assert counts["skipped"] >= 1


def test_nothing_that_fits_is_a_clear_error(tmp_path, source):
    _, path = source
    new = _model(tmp_path, OTHER_LABELS, "target", hidden=5, dim=4)
    with pytest.raises(ModelLoadError, match="no weight of this model fits"):
        warm_start(new, path)
    with pytest.raises(ModelLoadError, match="no such file"):
        warm_start(new, tmp_path / "missing.pt")
