"""The tagger's parts, built from part configs, on a hand-made batch."""

from __future__ import annotations

import pytest
import torch

from seqtag.batch import Collator
from seqtag.casing import casing
from seqtag.data.vectors import VectorsFile
from seqtag.errors import ModelLoadError
from seqtag.models.embeddings import WordEmbedding
from seqtag.models.encoders import RNNEncoder
from seqtag.models.heads import SoftmaxHead
from seqtag.models.tagger import SequenceTagger
from seqtag.tasks import EntityTagging
from seqtag.vocab import Vocab, Vocabularies

WORDS = Vocab(["<pad>", "<unk>", "the", "Paris", "EU", "rejects", "."], unk="<unk>")
TAGS = Vocab(["O", "B-LOC", "I-LOC", "B-ORG", "I-ORG"])
VOCABS = Vocabularies(WORDS, TAGS, scheme="iob2")
TASK = EntityTagging(train_scheme="iob2")
# part configs as the yaml files give them (the model builds the parts)
EMBEDDING = {"_target_": "seqtag.models.embeddings.WordEmbedding", "dim": 8, "dropout": 0.0}
ENCODER = {"_target_": "seqtag.models.encoders.RNNEncoder", "hidden_size": 6, "dropout": 0.0}
SOFTMAX = {"_target_": "seqtag.models.heads.SoftmaxHead"}
ADAM = {"_target_": "torch.optim.Adam", "lr": 0.01}


def _batch(sentences: list[list[str]], tags: list[list[str]]) -> dict[str, torch.Tensor]:
    examples = [
        {"words": torch.tensor(WORDS.indices(s)).numpy(), "tags": torch.tensor(TAGS.indices(t)).numpy(),
         "case": torch.tensor([casing(w) for w in s]).numpy()}
        for s, t in zip(sentences, tags, strict=True)
    ]
    return Collator(("words", "tags", "case"))(examples)


BATCH = _batch(
    [["EU", "rejects", "the", "Paris", "."], ["Paris", "."], ["the"]],
    [["B-ORG", "O", "O", "B-LOC", "O"], ["B-LOC", "O"], ["O"]],
)


def _tagger(cell: str = "lstm", bidirectional: bool = True, **embedding: object) -> SequenceTagger:
    return SequenceTagger(
        TASK, VOCABS,
        embedding={**EMBEDDING, **embedding},
        encoder={**ENCODER, "cell": cell, "bidirectional": bidirectional},
        head=SOFTMAX,
        optimizer=ADAM,
    )


def test_parts_are_built_from_their_configs_and_the_configs_kept():
    model = _tagger("gru", bidirectional=False, casing_dim=2)
    assert isinstance(model.embedding, WordEmbedding) and model.embedding.output_dim == 10
    assert isinstance(model.encoder, RNNEncoder) and model.encoder.cell == "gru"
    assert model.encoder.rnn.input_size == 10  # built with the embedding's width
    assert isinstance(model.head, SoftmaxHead) and model.head.proj.out_features == len(TAGS)
    assert model.lm is None and set(model.part_configs) == {"embedding", "encoder", "head"}
    assert model.part_configs["encoder"]["cell"] == "gru"
    # the saved form names parts by registered name, and the same configs build the same model
    record = model.record(with_weights=False)
    assert record["model"]["type"] == "tagger"
    assert record["model"]["encoder"] == {"type": "rnn", "hidden_size": 6, "dropout": 0.0, "cell": "gru",
                                          "bidirectional": False}
    twin = SequenceTagger(TASK, VOCABS, **{k: v for k, v in record["model"].items() if k != "type"})
    assert {k: v.shape for k, v in twin.state_dict().items()} == {k: v.shape for k, v in
                                                                  model.state_dict().items()}


def test_a_model_without_an_optimizer_config_predicts_but_does_not_train():
    model = SequenceTagger(TASK, VOCABS, embedding=EMBEDDING, encoder=ENCODER, head=SOFTMAX)
    assert model.eval().predict_batch(BATCH).shape == BATCH["tags"].shape
    with pytest.raises(ModelLoadError, match="without an optimizer config"):
        model.configure_optimizers()


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
@pytest.mark.parametrize("bidirectional", [True, False])
def test_forward_backward_shapes(cell: str, bidirectional: bool):
    torch.manual_seed(0)
    model = _tagger(cell, bidirectional)
    features = model(BATCH)
    assert features.shape == (3, 5, 12 if bidirectional else 6)
    loss = model.head.loss(features, BATCH["tags"], BATCH["mask"])
    loss.backward()
    assert torch.isfinite(loss)
    grads = [p.grad for p in model.parameters() if p.requires_grad]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    assert model.embedding.embedding.weight.grad[0].abs().sum() == 0  # padding row never learns


def test_padding_does_not_change_real_positions():
    torch.manual_seed(0)
    model = _tagger().eval()
    single = _batch([["Paris", "."]], [["B-LOC", "O"]])
    with torch.no_grad():
        alone = model(single)[0, :2]
        padded = model(BATCH)[1, :2]  # same sentence, padded to length 5 inside a batch
    torch.testing.assert_close(alone, padded)


def test_loss_ignores_padding_labels():
    torch.manual_seed(0)
    model = _tagger().eval()
    with torch.no_grad():
        features = model(BATCH)
        scrambled = BATCH["tags"].clone()
        scrambled[~BATCH["mask"]] = 3
        a = model.head.loss(features, BATCH["tags"], BATCH["mask"])
        b = model.head.loss(features, scrambled, BATCH["mask"])
    assert a.item() == pytest.approx(b.item())


def test_decode_zeroes_padding_and_training_fits_a_tiny_batch():
    torch.manual_seed(0)
    model = _tagger()
    optimizer = model.configure_optimizers()
    for _ in range(150):
        optimizer.zero_grad()
        loss = model.head.loss(model(BATCH), BATCH["tags"], BATCH["mask"])
        loss.backward()
        optimizer.step()
    model.eval()
    with torch.no_grad():
        predicted = model.predict_batch(BATCH)
    assert torch.equal(predicted[BATCH["mask"]], BATCH["tags"][BATCH["mask"]])
    assert (predicted[~BATCH["mask"]] == 0).all()


def test_pretrained_rows_and_coverage(tmp_path):
    path = tmp_path / "vec.txt"
    path.write_text("the 1 1 1 1\nparis 2 2 2 2\n")
    embedding = WordEmbedding(VOCABS, vectors=VectorsFile(str(path)), freeze=True)
    weight = embedding.embedding.weight
    assert embedding.output_dim == 4
    assert torch.equal(weight[WORDS.index("the")], torch.ones(4))
    assert torch.equal(weight[WORDS.index("Paris")], torch.full((4,), 2.0))  # lowercase fallback
    assert embedding.coverage == pytest.approx(2 / 5)
    assert not weight.requires_grad


def test_casing_feature_widens_output():
    model = _tagger(casing_dim=3)
    assert model.embedding.output_dim == 11
    assert model(BATCH).shape == (3, 5, 12)


def test_dim_must_match_vectors(tmp_path):
    path = tmp_path / "vec.txt"
    path.write_text("the 1 1 1 1\n")
    with pytest.raises(ValueError, match="dim=8"):
        WordEmbedding(VOCABS, dim=8, vectors=VectorsFile(str(path)))


def test_unknown_cell_is_rejected():
    with pytest.raises(ValueError, match="cell must be one of"):
        RNNEncoder(4, cell="transformer")


def test_extra_vectors_add_a_second_pretrained_table(tmp_path):
    first = tmp_path / "a.txt"
    first.write_text("paris 1 2 3 4 5 6 7 8\n")
    second = tmp_path / "b.txt"
    second.write_text("2 3\nParis 9 9 9\nthe 1 1 1\n")
    embedding = WordEmbedding(VOCABS, vectors=VectorsFile(str(first)), extra_vectors=VectorsFile(str(second)))
    assert embedding.output_dim == 11
    paris, the = WORDS.index("Paris"), WORDS.index("the")
    assert embedding.extra.weight[paris].tolist() == [9.0, 9.0, 9.0]
    assert embedding.extra.weight[the].tolist() == [1.0, 1.0, 1.0]
    assert embedding.extra.weight[0].abs().sum() == 0  # padding
    out = embedding(BATCH)
    assert out.shape == (3, 5, 11)
    assert out[0, 3, 8:].tolist() == [9.0, 9.0, 9.0]  # "Paris" in the first sentence
    # rebuilt from the saved width alone (a saved model does not need the vectors)
    assert WordEmbedding(VOCABS, dim=8, extra_dim=3).output_dim == 11
    with pytest.raises(ValueError, match="extra_dim=4"):
        WordEmbedding(VOCABS, dim=8, extra_vectors=VectorsFile(str(second)), extra_dim=4)


def test_extra_freeze_trains_one_channel_and_keeps_the_other(tmp_path):
    vectors = tmp_path / "v.txt"
    vectors.write_text("paris 1 2 3\nthe 4 5 6\n")
    embedding = WordEmbedding(VOCABS, vectors=VectorsFile(str(vectors)), freeze=True,
                              extra_vectors=VectorsFile(str(vectors)), extra_freeze=False)
    assert not embedding.embedding.weight.requires_grad
    assert embedding.extra.weight.requires_grad
    paris = WORDS.index("Paris")
    assert embedding.embedding.weight[paris].tolist() == embedding.extra.weight[paris].tolist() == [1, 2, 3]
    embedding(BATCH).sum().backward()
    assert embedding.extra.weight.grad is not None
    # by default the second table follows `freeze`
    both = WordEmbedding(VOCABS, vectors=VectorsFile(str(vectors)), freeze=True,
                         extra_vectors=VectorsFile(str(vectors)))
    assert not both.extra.weight.requires_grad
