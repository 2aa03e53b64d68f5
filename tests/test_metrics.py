"""Scores (seqtag.tasks.scoring): the training metric SequenceScores with the tasks' scorers,
entity scores equal to conlleval's, token accuracy, a classifier's positive-label scores."""

import random

import pytest
import torch

from seqtag.batch import pad
from seqtag.errors import ConfigError, ModelLoadError
from seqtag.tasks import DocumentClassification, EntityTagging, Task, TokenTagging
from seqtag.tasks.scoring import SequenceScores, accuracy_scores, confusion, entity_scores, positive_scores
from seqtag.vocab import Vocab, Vocabularies
from tests.conlleval_reference import conlleval_scores

TAGS = Vocab(["O", "B-LOC", "I-LOC", "B-PER", "I-PER", "B-ORG", "I-ORG"])
WORDS = Vocab(["<pad>", "<unk>"], unk="<unk>")
VOCABS = Vocabularies(WORDS, TAGS, "iob2")


def _entity_metric(vocabs: Vocabularies = VOCABS) -> SequenceScores:
    return SequenceScores(EntityTagging(train_scheme=vocabs.scheme).score_ids(vocabs))


def _batch(sequences: list[list[str]], vocab: Vocab = TAGS) -> tuple[torch.Tensor, torch.Tensor]:
    ids = pad([torch.tensor(vocab.indices(s)).numpy() for s in sequences])
    lengths = torch.tensor([len(s) for s in sequences])
    mask = torch.arange(ids.size(1))[None, :] < lengths[:, None]
    return ids, mask


def _strings(sequences: list[list[int]], vocab: Vocab = TAGS) -> list[list[str]]:
    return [[vocab.itos[i] for i in seq] for seq in sequences]


def test_hand_checked_example():
    gold = [["B-PER", "I-PER", "O", "B-LOC"], ["B-ORG", "O"]]
    pred = [["B-PER", "I-PER", "O", "B-ORG"], ["B-ORG", "O"]]
    metric = _entity_metric()
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
    # the metric scores exactly what the task's scorer gives for the strings
    direct, report = EntityTagging().score(gold, pred)
    assert direct == pytest.approx({k: v.item() for k, v in scores.items()})
    assert report == metric.last_report


def test_entity_scores_on_strings():
    scores, report = entity_scores([["B-PER", "I-PER", "O"], ["B-LOC"]], [["B-PER", "I-PER", "O"], ["O"]])
    assert scores["precision"] == pytest.approx(1.0)
    assert scores["recall"] == pytest.approx(0.5)
    assert scores["f1"] == pytest.approx(2 / 3)
    assert scores["f1_PER"] == pytest.approx(1.0) and scores["f1_LOC"] == pytest.approx(0.0)
    assert "LOC" in report


def test_rows_of_several_sentences_are_scored_per_sentence():
    # one row holds two sentences; a predicted I-PER continuing over the boundary must count
    # as a chunk of the second sentence, exactly as when the sentences are scored apart
    gold = [["B-PER", "O"], ["B-PER", "O"]]
    pred = [["B-PER", "I-PER"], ["I-PER", "O"]]
    apart = _entity_metric()
    g, mask = _batch(gold)
    p, _ = _batch(pred)
    apart.update(p, g, mask)
    joined = _entity_metric()
    g, mask = _batch([gold[0] + gold[1], ["O"]])
    p, _ = _batch([pred[0] + pred[1], ["O"]])
    starts = torch.tensor([[1, 0, 1, 0], [1, 0, 0, 0]])
    joined.update(p, g, mask, starts)
    gold_ids, pred_ids = joined.sequences()
    assert (_strings(gold_ids), _strings(pred_ids)) == (gold + [["O"]], pred + [["O"]])
    assert joined.compute()["f1"].item() == pytest.approx(apart.compute()["f1"].item())
    # second sentence right, first wrong; read as one sequence, no chunk would be right
    assert joined.compute()["f1"].item() == pytest.approx(0.5)


def test_padding_is_never_scored():
    gold = [["B-PER"], ["B-LOC", "I-LOC", "O"]]
    metric = _entity_metric()
    g, mask = _batch(gold)
    p = g.clone()
    p[~mask] = TAGS.index("B-ORG")  # garbage in padded positions must not create chunks
    metric.update(p, g, mask)
    assert metric.compute()["precision"].item() == pytest.approx(1.0)


def test_batches_of_different_widths_are_kept_apart():
    metric = _entity_metric()
    first = [["B-PER", "I-PER"], ["O"]]
    second = [["O", "O", "B-LOC", "I-LOC", "O"]]
    for seqs in (first, second):
        ids, mask = _batch(seqs)
        metric.update(ids, ids, mask)
    gold, pred = metric.sequences()
    assert _strings(gold) == [["B-PER", "I-PER"], ["O"], ["O", "O", "B-LOC", "I-LOC", "O"]]
    assert pred == gold


def test_empty_metric_has_no_sequences_and_reset_forgets():
    metric = _entity_metric()
    assert metric.sequences() == ([], [])
    ids, mask = _batch([["B-PER"]])
    metric.update(ids, ids, mask)
    assert len(metric.sequences()[0]) == 1
    metric.reset()
    assert metric.sequences() == ([], [])


def test_iobes_predictions_are_scored_as_iob2():
    tags = Vocab(["O", "B-PER", "I-PER", "E-PER", "S-PER"])
    vocabs = Vocabularies(WORDS, tags, "iobes")
    task = EntityTagging(train_scheme="iobes")
    metric = SequenceScores(task.score_ids(vocabs))
    gold, mask = _batch([["B-PER", "E-PER", "O", "S-PER"]], tags)
    pred, _ = _batch([["B-PER", "E-PER", "O", "O"]], tags)
    metric.update(pred, gold, mask)
    gold_ids, _ = metric.sequences()
    assert task.label_strings(vocabs, gold_ids[0]) == ["B-PER", "I-PER", "O", "B-PER"]
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
    metric = _entity_metric()
    for start in range(0, 60, 16):
        g_ids, mask = _batch(gold[start : start + 16])
        p_ids, _ = _batch(pred[start : start + 16])
        metric.update(p_ids, g_ids, mask)
    ours = metric.compute()
    reference = conlleval_scores(gold, pred)
    direct, _ = entity_scores(gold, pred)  # what seqtag-eval computes from the strings
    for name in ("precision", "recall", "f1"):
        assert ours[name].item() == pytest.approx(reference[name], abs=1e-6)
        assert direct[name] == pytest.approx(reference[name], abs=1e-6)


def test_token_accuracy_excludes_padding():
    tags = Vocab(["NN", "VB", "DT", "JJ", "RB", "IN", "CC", "CD"])
    metric = SequenceScores(TokenTagging().score_ids(Vocabularies(WORDS, tags)))
    target = torch.tensor([[1, 2, 0], [3, 0, 0]])
    mask = torch.tensor([[True, True, False], [True, False, False]])
    preds = torch.tensor([[1, 0, 5], [3, 7, 7]])
    metric.update(preds, target, mask)
    assert metric.compute()["acc"].item() == pytest.approx(2 / 3)
    assert metric.last_report.startswith("accuracy: 0.6667 (2 / 3 tokens)")


def test_accuracy_scores_report_per_label():
    scores, report = accuracy_scores([["NN", "VB"], ["NN"]], [["NN", "NN"], ["NN"]], "tokens")
    assert scores == {"acc": pytest.approx(2 / 3)}
    lines = report.splitlines()
    assert lines[0] == "accuracy: 0.6667 (2 / 3 tokens)"
    nn = next(line.split() for line in lines if line.split()[:1] == ["NN"])
    vb = next(line.split() for line in lines if line.split()[:1] == ["VB"])
    assert [float(x) for x in nn[1:4]] == pytest.approx([2 / 3, 1.0, 0.8], abs=1e-4) and nn[4] == "2"
    assert [float(x) for x in vb[1:4]] == [0.0, 0.0, 0.0] and vb[4] == "1"


def test_positive_scores():
    gold = ["pos", "neg", "neg", "pos", "pos"]
    pred = ["pos", "pos", "neg", "neg", "pos"]
    scores, line = positive_scores(gold, pred, "pos")
    assert scores["precision_pos"] == pytest.approx(2 / 3)
    assert scores["recall_pos"] == pytest.approx(2 / 3)
    assert scores["f1_pos"] == pytest.approx(2 / 3)
    assert "'pos'" in line
    # a label never predicted nor seen scores 0, not NaN
    assert positive_scores(["neg"], ["neg"], "pos")[0] == {"precision_pos": 0.0, "recall_pos": 0.0,
                                                            "f1_pos": 0.0}


def test_document_scores_through_the_metric():
    vocabs = Vocabularies(WORDS, Vocab(["neg", "pos"]))
    task = DocumentClassification(positive="pos", metric="f1_pos")
    metric = SequenceScores(task.score_ids(vocabs))
    one = torch.ones(4, 1, dtype=torch.bool)
    metric.update(torch.tensor([[1], [1], [0], [0]]), torch.tensor([[1], [0], [0], [1]]), one)
    metric.update(torch.tensor([[1]]), torch.tensor([[1]]), torch.ones(1, 1, dtype=torch.bool))
    scores = metric.compute()
    assert scores["acc"].item() == pytest.approx(3 / 5)
    assert scores[task.metric].item() == pytest.approx(2 / 3)
    assert "positive label 'pos'" in metric.last_report and "(3 / 5 documents)" in metric.last_report


def test_confusion_counts_kinds():
    task = EntityTagging()
    text = confusion([["B-PER", "I-PER", "O"]], [["B-LOC", "I-PER", "O"]], task.kind, "tokens")
    assert "PER -> LOC: 1" in text
    assert "rows gold, columns predicted" in text


def test_unknown_task_or_metric_is_refused():
    # was scores_for("sentiment", ...): the scorer now comes with the task, found by its saved name
    with pytest.raises(ModelLoadError, match="no task named 'sentiment'"):
        Task.from_dict({"type": "sentiment"})
    with pytest.raises(ConfigError, match="metric='acc'"):
        EntityTagging(metric="acc")
    with pytest.raises(ConfigError, match="positive"):
        DocumentClassification(metric="f1_pos")
    assert Task.from_dict(EntityTagging(train_scheme="iobes").to_dict()).score_ids(
        Vocabularies(WORDS, Vocab(["O", "S-PER"]), "iobes"))([[1]], [[1]])[0]["f1"] == 1.0
