from functools import partial

import pytest
import torch

from seqtag.data.batching import TaggingCollator
from seqtag.data.casing import casing
from seqtag.data.datamodule import Vocabularies
from seqtag.data.vectors import VectorsFile
from seqtag.data.vocab import Vocab
from seqtag.models.embeddings import WordEmbedding
from seqtag.models.encoders import RNNEncoder
from seqtag.models.heads import SoftmaxHead
from seqtag.models.tagger import SequenceTagger

WORDS = Vocab(["<pad>", "<unk>", "the", "Paris", "EU", "rejects", "."], unk="<unk>")
TAGS = Vocab(["O", "B-LOC", "I-LOC", "B-ORG", "I-ORG"])
VOCABS = Vocabularies(WORDS, TAGS, scheme="iob2", task="entity")


def _batch(sentences: list[list[str]], tags: list[list[str]]) -> dict[str, torch.Tensor]:
    examples = [
        {"words": torch.tensor(WORDS.indices(s)).numpy(), "tags": torch.tensor(TAGS.indices(t)).numpy(),
         "case": torch.tensor([casing(w) for w in s]).numpy()}
        for s, t in zip(sentences, tags, strict=True)
    ]
    return TaggingCollator(("words", "tags", "case"))(examples)


BATCH = _batch(
    [["EU", "rejects", "the", "Paris", "."], ["Paris", "."], ["the"]],
    [["B-ORG", "O", "O", "B-LOC", "O"], ["B-LOC", "O"], ["O"]],
)


def _tagger(cell: str = "lstm", bidirectional: bool = True, **embedding: object) -> SequenceTagger:
    return SequenceTagger(
        VOCABS,
        embedding=partial(WordEmbedding, dim=8, dropout=0.0, **embedding),
        encoder=partial(RNNEncoder, cell=cell, hidden_size=6, bidirectional=bidirectional, dropout=0.0),
        head=partial(SoftmaxHead),
        optimizer=partial(torch.optim.Adam, lr=0.01),
    )


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
        predicted = model.predict_tags(BATCH)
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
