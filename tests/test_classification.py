"""Sequence classification: reading labelled text, tokenising documents, pooling heads,
bidirectional merges, document metrics and sweep summaries."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from seqtag.data.corpus import LabelledTextCorpus
from seqtag.data.datamodule import DataModule
from seqtag.data.labelled import read_labelled
from seqtag.data.vectors import VectorsFile
from seqtag.errors import ConfigError, CorpusFormatError
from seqtag.models.encoders import RNNEncoder
from seqtag.models.pooling import SequencePoolingHead
from seqtag.sweep import write_summary
from seqtag.tasks import Document, DocumentClassification
from seqtag.tasks.scoring import SequenceScores
from seqtag.tokenize import document_tokens
from seqtag.vocab import Vocab, Vocabularies

LABELS = Vocabularies(Vocab(["<pad>", "<unk>", "good"], unk="<unk>"), Vocab(["neg", "pos"]))


def _module(corpus: LabelledTextCorpus, tmp_path: Path, task: DocumentClassification | None = None,
            **kwargs) -> DataModule:
    return DataModule(task or DocumentClassification(), corpus, cache_dir=str(tmp_path / "cache"), **kwargs)


def test_csv_with_quotes_commas_and_newlines_in_reviews(tmp_path: Path):
    path = tmp_path / "train.csv"
    text = 'text,label\r\n"Great, really.<br />Two ""lines""\nhere",pos\r\nBad,neg\r\n'
    path.write_text(text, encoding="utf-8")
    rows = list(read_labelled(str(path), "text", "label", ","))
    assert rows == [{"text": 'Great, really.<br />Two "lines"\nhere', "label": "pos"},
                    {"text": "Bad", "label": "neg"}]


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("review,label\nx,pos\n", "line 1: no column 'text' in the header"),
        ("text,label\nfine,pos\nno label here\n", "line 3: expected 2 fields, found 1"),
        ("text,label\nfine,pos\n  ,neg\n", "line 3: empty text"),
        ("text,label\nfine,\n", "line 2: empty label"),
        ("", "the file is empty"),
    ],
)
def test_bad_rows_name_file_and_line(tmp_path: Path, content: str, problem: str):
    path = tmp_path / "bad.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(CorpusFormatError) as err:
        list(read_labelled(str(path), "text", "label", ","))
    assert str(err.value).startswith(str(path)) and problem in str(err.value)


def test_tsv_sentences_and_document_tokens():
    assert document_tokens("I didn't like it.<br /><br />It's 7/10, <i>meh</i>!") == [
        "i", "did", "n't", "like", "it", ".", "it", "'s", "7", "/", "10", ",", "meh", "!"]
    assert document_tokens("Keep <br/>Case", lowercase=False, max_length=2) == ["Keep", "Case"]
    assert document_tokens("a <br /> b", strip_html=False)[:3] == ["a", "<", "br"]
    assert document_tokens("a x b x c", max_length=2, keep=lambda t: t != "x") == ["a", "b"]


def test_datamodule_carves_a_fixed_validation_split(tmp_path: Path):
    rows = "".join(f"review number {i} {'good' if i % 2 else 'bad'},{'pos' if i % 2 else 'neg'}\n"
                   for i in range(40))
    (tmp_path / "train.csv").write_text("text,label\n" + rows)
    (tmp_path / "test.csv").write_text("text,label\ngood stuff,pos\nbad stuff,neg\n")
    corpus = LabelledTextCorpus(str(tmp_path), {"train": "train.csv", "test": "test.csv"})
    splits = []
    for seed in (1, 2):  # the run seed must not move documents between train and validation
        dm = _module(corpus, tmp_path, DocumentClassification(max_length=3), val_fraction=0.25, seed=seed,
                     batch_size=4)
        dm.setup()
        splits.append(sorted(ex["words"].tolist() for ex in dm.splits["validation"]))
        assert len(dm.splits["train"]) == 30 and len(dm.splits["validation"]) == 10
        assert all(len(ex["words"]) <= 3 for ex in dm.splits["train"])
    assert splits[0] == splits[1]
    batch = next(iter(dm.train_dataloader()))
    assert batch["label"].shape == (4,) and batch["words"].shape[0] == 4
    assert set(batch) == {"words", "case", "label", "lengths", "mask"}
    assert dm.vocabs.tags.itos == ["neg", "pos"] and dm.vocabs.scheme == "none"
    assert dm.task.to_dict()["type"] == "document"


def test_max_examples_draws_documents_with_the_split_seed(tmp_path: Path):
    rows = "".join(f"review {i},{'pos' if i % 2 else 'neg'}\n" for i in range(40))
    (tmp_path / "train.csv").write_text("text,label\n" + rows)
    corpus = LabelledTextCorpus(str(tmp_path), {"train": "train.csv", "test": "train.csv"})

    def drawn(split_seed):
        return corpus.splits(str(tmp_path / "cache"), val_fraction=0.25, split_seed=split_seed,
                             max_examples=5)["test"]["text"]

    assert len(drawn(0)) == 5 and drawn(0) == drawn(0)
    assert drawn(0) != drawn(1)
    assert drawn(0) != [f"review {i}" for i in range(5)]  # drawn, not the first ones
    dm = _module(corpus, tmp_path, max_examples=5, val_fraction=0.25)
    dm.setup()
    assert [len(dm.splits[s]) for s in ("train", "validation", "test")] == [5, 5, 5]


def test_known_words_only_drops_words_without_a_vector_before_the_cut(tmp_path: Path):
    rows = ["zorbly good film zorbly fine,pos", "qwix bad film,neg", "good,pos", "bad,neg"] * 2
    (tmp_path / "train.csv").write_text("text,label\n" + "\n".join(rows) + "\n")
    (tmp_path / "test.csv").write_text("text,label\nblorp good,pos\n")
    vectors = tmp_path / "vectors.txt"
    vectors.write_text("".join(f"{w} 0.1 0.2\n" for w in ("good", "bad", "film", "fine")))
    corpus = LabelledTextCorpus(str(tmp_path), {"train": "train.csv", "test": "test.csv"})
    task = DocumentClassification(max_length=3, known_words_only=True)
    dm = _module(corpus, tmp_path, task, val_fraction=0.25, vectors=VectorsFile(str(vectors)))
    dm.setup()
    words = dm.vocabs.words
    documents = {tuple(words.itos[i] for i in ex["words"]) for split in ("train", "validation")
                 for ex in dm.splits[split]}
    # the cut counts known words only: "fine" is the 3rd known word of a 5-token review
    assert documents == {("good", "film", "fine"), ("bad", "film"), ("good",), ("bad",)}
    assert [words.itos[i] for i in dm.splits["test"][0]["words"]] == ["good"]
    assert "zorbly" not in words and "qwix" not in words
    with pytest.raises(ConfigError, match="known_words_only needs pretrained vectors"):
        _module(corpus, tmp_path / "none", DocumentClassification(known_words_only=True)).setup()


def test_validation_by_sentence_keeps_their_phrases_out_of_training(tmp_path: Path):
    rows = []
    for n in range(10):  # 20 sentences, each with its own phrases and two shared ones
        rows += [f"a fine , warm film w{n}\t1", f"warm film w{n}\t1", f"film w{n}\t1", "warm\t1",
                 f"a dull , cold film c{n}\t0", f"cold film c{n}\t0", "dull\t0"]
    (tmp_path / "train.tsv").write_text("sentence\tlabel\n" + "\n".join(rows) + "\n")
    (tmp_path / "dev.tsv").write_text("sentence\tlabel\nwarm\t1\ncold\t0\n")
    corpus = LabelledTextCorpus(str(tmp_path), {"train": "train.tsv", "test": "dev.tsv"},
                                text_column="sentence", delimiter="\t")
    splits = corpus.splits(str(tmp_path / "cache"), val_fraction=0.25, val_split="sentences")
    held = splits["validation"]["text"]
    assert len(held) == 5 and all(t.startswith(("a fine", "a dull")) for t in held)
    tails = {t.split()[-1] for t in held}
    shared = {"warm", "dull"} & {w for t in held for w in t.split()}
    # the held-out sentences' phrases, shared ones too, leave training; all else stays
    expected = [r.split("\t")[0] for r in rows if r.split("\t")[0].split()[-1] not in tails | shared]
    assert splits["train"]["text"] == expected
    dm = _module(corpus, tmp_path, val_fraction=0.25, val_split="sentences")
    dm.setup()
    assert len(dm.splits["validation"]) == 5 and len(dm.splits["train"]) == len(expected)
    assert dm.source()["val_split"] == "sentences"
    with pytest.raises(ConfigError, match="val_split.*'phrases'"):
        _module(corpus, tmp_path, val_split="phrases").setup()


def test_unknown_val_split_error_names_every_choice(tmp_path: Path):
    """A labelled-text corpus takes val_split=random or sentences: the error should say both."""
    (tmp_path / "train.csv").write_text("text,label\n" + "a b,pos\nc d,neg\n" * 10)
    corpus = LabelledTextCorpus(str(tmp_path), {"train": "train.csv"})
    with pytest.raises(ConfigError) as info:
        corpus.splits(str(tmp_path / "cache"), val_split="phrases")
    assert "'sentences'" in str(info.value), str(info.value)


def test_test_labels_unseen_in_training_are_an_error(tmp_path: Path):
    (tmp_path / "train.csv").write_text("text,label\n" + "a,pos\nb,neg\n" * 5)
    (tmp_path / "test.csv").write_text("text,label\nc,neutral\n")
    corpus = LabelledTextCorpus(str(tmp_path), {"train": "train.csv", "test": "test.csv"})
    dm = _module(corpus, tmp_path)
    with pytest.raises(CorpusFormatError, match=r"test.csv: labels \['neutral'\] do not occur"):
        dm.setup()


def test_positive_label_must_be_a_label(tmp_path: Path):
    (tmp_path / "train.csv").write_text("text,label\n" + "a,pos\nb,neg\n" * 5)
    corpus = LabelledTextCorpus(str(tmp_path), {"train": "train.csv"})
    with pytest.raises(ConfigError, match="positive label 'yes' is not one of the labels"):
        _module(corpus, tmp_path, DocumentClassification(positive="yes"), val_fraction=0.2).setup()
    with pytest.raises(ConfigError, match="needs the positive label"):
        DocumentClassification(metric="f1_pos")
    with pytest.raises(ConfigError, match="pad_to_max_length needs max_length"):
        DocumentClassification(pad_to_max_length=True, max_length=None)


def _states(lengths: list[int], width: int = 3) -> tuple[torch.Tensor, torch.Tensor]:
    mask = torch.arange(max(lengths))[None, :] < torch.tensor(lengths)[:, None]
    features = torch.arange(len(lengths) * max(lengths) * width, dtype=torch.float).view(
        len(lengths), max(lengths), width)
    return features, mask


@pytest.mark.parametrize("pooling", ["mean", "max", "attention"])
def test_pooling_ignores_padding(pooling: str):
    head = SequencePoolingHead(3, LABELS, pooling=pooling)
    features, mask = _states([2, 4])
    garbage = features.clone()
    garbage[~mask] = 1e6
    final = torch.zeros(2, 3)
    assert torch.allclose(head.pool(features, mask, final), head.pool(garbage, mask, final))
    if pooling == "mean":
        assert torch.allclose(head.pool(features, mask, final)[0], features[0, :2].mean(0))


def test_joined_poolings_are_concatenated_in_order():
    head = SequencePoolingHead(3, LABELS, pooling="max+mean+last")
    features, mask = _states([2, 4])
    final = torch.randn(2, 3)
    pooled = head.pool(features, mask, final)
    assert pooled.shape == (2, 9) and head.proj.in_features == 9
    alone = SequencePoolingHead(3, LABELS, pooling="max")
    assert torch.equal(pooled[:, :3], alone.pool(features, mask, final))
    assert torch.allclose(pooled[0, 3:6], features[0, :2].mean(0))
    assert torch.equal(pooled[:, 6:], final)
    assert head(features, mask, final).shape == (2, 2)
    for bad in ("max+median", "max+max"):
        with pytest.raises(ValueError, match="several joined by"):
            SequencePoolingHead(3, LABELS, pooling=bad)


def test_flatten_lays_states_end_to_end_and_pads_to_max_length():
    head = SequencePoolingHead(3, LABELS, pooling="flatten", max_length=5)
    features, mask = _states([2, 4])
    pooled = head.pool(features, mask, torch.zeros(2, 3))
    assert pooled.shape == (2, 15)
    # the encoder's states are kept as they are (a packed encoder's are zeros past the end)
    assert torch.equal(pooled[0, :12], features[0].flatten()) and not pooled[0, 12:].any()
    with pytest.raises(ValueError, match="max_length"):
        SequencePoolingHead(3, LABELS, pooling="flatten")


@pytest.mark.parametrize("merge", ["concat", "sum", "mul", "ave"])
def test_bidirectional_merge_and_final_states(merge: str):
    torch.manual_seed(0)
    encoder = RNNEncoder(4, cell="lstm", hidden_size=5, bidirectional=True, merge=merge).eval()
    inputs, lengths = torch.randn(2, 6, 4), torch.tensor([6, 3])
    outputs, final = encoder(inputs, lengths, return_final=True)
    raw, _ = torch.nn.utils.rnn.pad_packed_sequence(encoder.rnn(torch.nn.utils.rnn.pack_padded_sequence(
        inputs, lengths, batch_first=True, enforce_sorted=False))[0], batch_first=True)
    forward, backward = raw[..., :5], raw[..., 5:]
    expected = {"concat": torch.cat([forward, backward], -1), "sum": forward + backward,
                "mul": forward * backward, "ave": (forward + backward) / 2}[merge]
    assert torch.allclose(outputs[:, :6], expected, atol=1e-6)
    assert encoder.output_dim == (10 if merge == "concat" else 5)
    # final: the forward state after the last real token, the backward state at the first
    last = {"concat": torch.cat([forward[1, 2], backward[1, 0]]), "sum": forward[1, 2] + backward[1, 0],
            "mul": forward[1, 2] * backward[1, 0], "ave": (forward[1, 2] + backward[1, 0]) / 2}[merge]
    assert torch.allclose(final[1], last, atol=1e-6)


def test_classification_scores_accuracy_and_positive_f1():
    metric = SequenceScores(DocumentClassification(positive="pos").score_ids(LABELS))
    one = torch.ones(4, 1, dtype=torch.bool)
    metric.update(torch.tensor([1, 1, 0, 0])[:, None], torch.tensor([1, 0, 0, 1])[:, None], one)
    metric.update(torch.tensor([[1]]), torch.tensor([[1]]), one[:1])
    scores = metric.compute()
    assert scores["acc"].item() == pytest.approx(3 / 5)
    assert scores["precision_pos"].item() == pytest.approx(2 / 3)
    assert scores["recall_pos"].item() == pytest.approx(2 / 3)
    assert scores["f1_pos"].item() == pytest.approx(2 / 3)
    # without a positive label: accuracy only
    plain = DocumentClassification().score([["pos"], ["neg"]], [["pos"], ["pos"]])[0]
    assert plain == {"acc": pytest.approx(0.5)}


def test_sweep_summary_tables_and_plots_every_job(tmp_path: Path):
    for job, (units, acc) in enumerate([(50, 0.8), (10, 0.7), (20, None)]):
        run = tmp_path / str(job)
        (run / ".hydra").mkdir(parents=True)
        (run / ".hydra" / "overrides.yaml").write_text(
            f"- experiment=imdb_seeds\n- model.encoder.hidden_size={units}\n")
        if acc is not None:
            (run / "metrics.json").write_text(json.dumps({"val/acc": acc, "test/acc": acc - 0.01}))
    summary = write_summary(tmp_path)
    text = summary.read_text()
    assert "Common overrides: `experiment=imdb_seeds`" in text
    assert "| 0 | 50 | 0.8000 | 0.7900 |" in text and "| 2 | 20 |  |  |" in text
    header = (tmp_path / "summary.csv").read_text().splitlines()[0]
    assert header == "job,model.encoder.hidden_size,val/acc,test/acc"
    assert (tmp_path / "summary.png").stat().st_size > 1000


def test_unpacked_encoder_reads_the_padding_like_keras_without_masking():
    torch.manual_seed(0)
    encoder = RNNEncoder(4, cell="rnn", hidden_size=3, bidirectional=False, pack=False).eval()
    inputs = torch.randn(1, 5, 4)
    inputs[:, 2:] = 0.0  # a two-token document padded with zero vectors
    outputs, final = encoder(inputs, torch.tensor([2]), return_final=True)
    assert outputs[0, 2:].abs().sum() > 0  # the recurrence ran on over the padding
    assert torch.allclose(final[0], outputs[0, -1])
    packed = RNNEncoder(4, cell="rnn", hidden_size=3, bidirectional=False).eval()
    packed.load_state_dict(encoder.state_dict())
    packed_out, packed_final = packed(inputs, torch.tensor([2]), return_final=True)
    assert not packed_out[0, 2:].any() and torch.allclose(packed_final[0], packed_out[0, 1])


def test_keras_initialisation_of_recurrent_weights():
    encoder = RNNEncoder(4, cell="lstm", hidden_size=3, bidirectional=True, init="keras")
    for name, param in encoder.rnn.named_parameters():
        if name.startswith("weight_hh"):
            for gate in param.data.split(3):  # each gate's recurrent matrix is orthogonal
                assert torch.allclose(gate @ gate.T, torch.eye(3), atol=1e-5)
        elif name.startswith("bias_ih"):
            assert param.data.tolist() == [0.0] * 3 + [1.0] * 3 + [0.0] * 6  # input, forget, cell, output
        elif name.startswith("bias_hh"):
            assert not param.data.any()
    with pytest.raises(ValueError, match="init must be"):
        RNNEncoder(4, init="glorot")


def _classifier(task: DocumentClassification, vocabs: Vocabularies):
    from seqtag.models.classifier import SequenceClassifier

    torch.manual_seed(0)
    return SequenceClassifier(
        task, vocabs, {"_target_": "seqtag.models.embeddings.WordEmbedding", "dim": 4},
        {"_target_": "seqtag.models.encoders.RNNEncoder", "hidden_size": 3},
        {"_target_": "seqtag.models.pooling.SequencePoolingHead"},
        {"_target_": "torch.optim.Adam"})


def test_a_known_words_model_reads_raw_text_as_in_training():
    from seqtag.predictor import Predictor

    words = Vocab(["<pad>", "<unk>", "good", "film"], unk="<unk>")
    vocabs = Vocabularies(words, Vocab(["neg", "pos"]))
    options = {"lowercase": True, "strip_html": True, "max_length": 2}
    model = _classifier(DocumentClassification(**options, known_words_only=True), vocabs)
    [result] = Predictor(model).predict(["A zorbly GOOD<br />film, good"])
    assert isinstance(result, Document) and result.tokens == ["good", "film"]
    assert result.label in ("neg", "pos") and sum(result.scores.values()) == pytest.approx(1.0)
    model = _classifier(DocumentClassification(**options, known_words_only=False), vocabs)
    [result] = Predictor(model).predict(["A zorbly GOOD<br />film, good"])
    assert result.tokens == ["a", "zorbly"]
    # token lists are read as they are given
    assert Predictor(model).predict([["Good", "film", "x"]])[0].tokens == ["Good", "film", "x"]
