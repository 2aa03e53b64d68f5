import random

import pytest
import torch

from seqtag.data.batching import pad
from seqtag.data.vocab import Vocab
from seqtag.metrics import EntityScores, TokenAccuracy, scores_for
from tests.conlleval_reference import conlleval_scores

TAGS = Vocab(["O", "B-LOC", "I-LOC", "B-PER", "I-PER", "B-ORG", "I-ORG"])


def _batch(sequences: list[list[str]], vocab: Vocab = TAGS) -> tuple[torch.Tensor, torch.Tensor]:
    ids = pad([torch.tensor(vocab.indices(s)).numpy() for s in sequences])
    lengths = torch.tensor([len(s) for s in sequences])
    mask = torch.arange(ids.size(1))[None, :] < lengths[:, None]
    return ids, mask


def test_hand_checked_example():
    gold = [["B-PER", "I-PER", "O", "B-LOC"], ["B-ORG", "O"]]
    pred = [["B-PER", "I-PER", "O", "B-ORG"], ["B-ORG", "O"]]
    metric = EntityScores(TAGS)
    g, mask = _batch(gold)
    p, _ = _batch(pred)
    metric.update(p, g, mask)
    scores = metric.compute()
    # gold chunks: PER, LOC, ORG; predicted: PER, ORG, ORG; correct: PER and the 2nd-sentence ORG
    assert scores["precision"].item() == pytest.approx(2 / 3)
    assert scores["recall"].item() == pytest.approx(2 / 3)
    assert scores["f1"].item() == pytest.approx(2 / 3)
    assert scores["f1_PER"].item() == pytest.approx(1.0)
    assert scores["f1_LOC"].item() == pytest.approx(0.0)
    assert scores["f1_ORG"].item() == pytest.approx(2 / 3)
    assert "PER" in metric.last_report and "micro avg" in metric.last_report


def test_rows_of_several_sentences_are_scored_per_sentence():
    # one row holds two sentences; a predicted I-PER continuing over the boundary must count
    # as a chunk of the second sentence, exactly as when the sentences are scored apart
    gold = [["B-PER", "O"], ["B-PER", "O"]]
    pred = [["B-PER", "I-PER"], ["I-PER", "O"]]
    apart = EntityScores(TAGS)
    g, mask = _batch(gold)
    p, _ = _batch(pred)
    apart.update(p, g, mask)
    joined = EntityScores(TAGS)
    g, mask = _batch([gold[0] + gold[1], ["O"]])
    p, _ = _batch([pred[0] + pred[1], ["O"]])
    starts = torch.tensor([[1, 0, 1, 0], [1, 0, 0, 0]])
    joined.update(p, g, mask, starts)
    assert joined.sequences() == (gold + [["O"]], pred + [["O"]])
    assert joined.compute()["f1"].item() == pytest.approx(apart.compute()["f1"].item())
    # second sentence right, first wrong; read as one sequence, no chunk would be right
    assert joined.compute()["f1"].item() == pytest.approx(0.5)


def test_padding_is_never_scored():
    gold = [["B-PER"], ["B-LOC", "I-LOC", "O"]]
    metric = EntityScores(TAGS)
    g, mask = _batch(gold)
    p = g.clone()
    p[~mask] = TAGS.index("B-ORG")  # garbage in padded positions must not create chunks
    metric.update(p, g, mask)
    assert metric.compute()["precision"].item() == pytest.approx(1.0)


def test_batches_of_different_widths_are_kept_apart():
    metric = EntityScores(TAGS)
    first = [["B-PER", "I-PER"], ["O"]]
    second = [["O", "O", "B-LOC", "I-LOC", "O"]]
    for seqs in (first, second):
        ids, mask = _batch(seqs)
        metric.update(ids, ids, mask)
    gold, pred = metric.sequences()
    assert gold == [["B-PER", "I-PER"], ["O"], ["O", "O", "B-LOC", "I-LOC", "O"]]
    assert pred == gold


def test_iobes_predictions_are_scored_as_iob2():
    tags = Vocab(["O", "B-PER", "I-PER", "E-PER", "S-PER"])
    metric = EntityScores(tags, scheme="iobes")
    gold, mask = _batch([["B-PER", "E-PER", "O", "S-PER"]], tags)
    pred, _ = _batch([["B-PER", "E-PER", "O", "O"]], tags)
    metric.update(pred, gold, mask)
    gold_seq, pred_seq = metric.sequences()
    assert gold_seq == [["B-PER", "I-PER", "O", "B-PER"]]
    assert metric.compute()["precision"].item() == pytest.approx(1.0)
    assert metric.compute()["recall"].item() == pytest.approx(0.5)


@pytest.mark.parametrize("seed", range(5))
def test_scores_equal_conlleval_on_random_sequences(seed: int):
    """Including invalid IOB2 (I- after O, type changes), which conlleval counts as chunk starts."""
    rng = random.Random(seed)
    gold, pred = [], []
    for _ in range(60):
        n = rng.randint(1, 12)
        g = [rng.choice(TAGS.itos) for _ in range(n)]
        p = [t if rng.random() < 0.6 else rng.choice(TAGS.itos) for t in g]
        gold.append(g)
        pred.append(p)
    metric = EntityScores(TAGS)
    for start in range(0, 60, 16):
        g_ids, mask = _batch(gold[start : start + 16])
        p_ids, _ = _batch(pred[start : start + 16])
        metric.update(p_ids, g_ids, mask)
    ours = metric.compute()
    reference = conlleval_scores(gold, pred)
    for name in ("precision", "recall", "f1"):
        assert ours[name].item() == pytest.approx(reference[name], abs=1e-6)


def test_token_accuracy_excludes_padding():
    metric = TokenAccuracy()
    target = torch.tensor([[1, 2, 0], [3, 0, 0]])
    mask = torch.tensor([[True, True, False], [True, False, False]])
    preds = torch.tensor([[1, 0, 5], [3, 7, 7]])
    metric.update(preds, target, mask)
    assert metric.compute()["acc"].item() == pytest.approx(2 / 3)


def test_scores_for_rejects_unknown_task():
    with pytest.raises(ValueError, match="unknown task"):
        scores_for("sentiment", TAGS, "iob2")
