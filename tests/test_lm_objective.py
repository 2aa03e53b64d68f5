"""The language-modelling objective (Rei, 2017): targets, masking, and a tagger trained with it."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from seqtag.models.lm_objective import NextWordObjective
from seqtag.models.tagger import SequenceTagger
from tests.test_model import ADAM, BATCH, EMBEDDING, ENCODER, SOFTMAX, TASK, VOCABS

WORDS = ["<pad>", "<unk>", "the", "a", "cat", "sat", "mat", "rare"]


def _reference(lm: NextWordObjective, features: torch.Tensor, words: torch.Tensor, lengths: list[int]):
    """Sentence by sentence, word by word: what the objective should sum."""
    total = 0.0
    half = features.size(-1) // 2
    for b, n in enumerate(lengths):
        ids = [w if w < lm.vocab_size else lm.unk_index for w in words[b, :n].tolist()]
        for t in range(n):
            following = ids[t + 1] if t + 1 < n else 0
            preceding = ids[t - 1] if t > 0 else 0
            fwd = lm.next_word(features[b, t, :half])
            bwd = lm.previous_word(features[b, t, half:])
            total += F.cross_entropy(fwd[None], torch.tensor([following]))
            total += F.cross_entropy(bwd[None], torch.tensor([preceding]))
    return lm.weight * total / len(lengths)


def test_loss_matches_a_word_by_word_reference_and_ignores_padding():
    torch.manual_seed(0)
    lm = NextWordObjective(input_size=8, words=WORDS, bidirectional=True, weight=0.3, vocab_size=6)
    words = torch.tensor([[2, 4, 5, 7], [3, 6, 0, 0]])  # "rare" (7) is past vocab_size: <unk>
    mask = words != 0
    features = torch.randn(2, 4, 8)
    expected = _reference(lm, features, words, [4, 2])
    assert torch.allclose(lm(features, words, mask), expected, atol=1e-6)
    features[1, 2:] = 100.0  # what the padding holds must not matter
    assert torch.allclose(lm(features, words, mask), expected, atol=1e-6)


def test_next_words_are_predicted_from_the_forward_half_only():
    lm = NextWordObjective(input_size=8, words=WORDS, bidirectional=True, vocab_size=8)
    torch.nn.init.zeros_(lm.previous_word[2].weight)  # the previous-word loss is now constant
    words = torch.tensor([[2, 4, 5]])
    features = torch.randn(1, 3, 8, requires_grad=True)
    lm(features, words, words != 0).backward()
    assert features.grad[..., :4].abs().sum() > 0
    assert torch.equal(features.grad[..., 4:], torch.zeros(1, 3, 4))


def test_unidirectional_encoder_predicts_next_words_only():
    lm = NextWordObjective(input_size=4, words=WORDS, bidirectional=False)
    assert lm.previous_word is None
    words = torch.tensor([[2, 4, 5]])
    loss = lm(torch.randn(1, 3, 4), words, words != 0)
    assert loss.ndim == 0 and loss > 0


def _tagger_with_lm(merge: str = "concat"):
    return SequenceTagger(
        TASK, VOCABS,
        embedding=EMBEDDING,
        encoder={**ENCODER, "merge": merge},
        head=SOFTMAX,
        optimizer=ADAM,
        lm={"_target_": "seqtag.models.lm_objective.NextWordObjective", "weight": 0.5},
    )


def test_tagger_trains_the_objective_beside_the_tags_and_predicts_without_it():
    torch.manual_seed(0)
    model = _tagger_with_lm()
    assert isinstance(model.lm, NextWordObjective) and model.lm.weight == 0.5
    assert model.lm.vocab_size == len(model.vocabs.words)  # completed with the vocabulary by the model
    assert model.lm.previous_word is not None  # ... and with the encoder's direction
    with pytest.warns(UserWarning):  # self.log outside a Trainer
        loss = model.training_step(BATCH, 0)
    torch.manual_seed(0)
    twin = _tagger_with_lm()
    features = twin(BATCH)
    tags_only = twin.head.loss(features, BATCH["tags"], BATCH["mask"])
    lm_only = twin.lm(features, BATCH["words"], BATCH["mask"])
    assert lm_only > 0 and torch.allclose(loss, tags_only + lm_only)
    loss.backward()
    assert model.lm.next_word[0].weight.grad is not None
    assert model.predict_batch(BATCH).shape == BATCH["tags"].shape


def test_tagger_refuses_merged_directions():
    with pytest.raises(ValueError, match="merge=concat"):
        _tagger_with_lm(merge="sum")


def test_the_objective_is_saved_with_the_model_and_comes_back(tmp_path):
    model = _tagger_with_lm()
    assert model.record(with_weights=False)["model"]["lm"] == {"type": "next_word", "weight": 0.5}
    loaded = SequenceTagger.load(model.save(tmp_path / "model.pt"))
    assert isinstance(loaded.lm, NextWordObjective) and loaded.lm.weight == 0.5
    for name, value in model.state_dict().items():
        assert torch.equal(loaded.state_dict()[name], value), name
