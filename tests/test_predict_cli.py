"""``seqtag-predict`` and ``seqtag-eval`` end to end, through their ``main()``, on a tagger and a
classifier trained in-process on inline corpora (seconds, no real data)."""

from __future__ import annotations

import io
import json
import sys
import types
from pathlib import Path

import pytest
import torch

import seqtag
from seqtag.evaluate import main as seqtag_eval
from seqtag.evaluate import read_split
from seqtag.predict import main as seqtag_predict
from tests.test_persistence import sst2_corpus, train_run, train_tagger

TEXT = ["Peter visited Paris .", "", "The EU met in Rome .", "Anna Smith joined Fiat ."]


@pytest.fixture(scope="module")
def tagger_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return train_tagger(tmp_path_factory)


@pytest.fixture(scope="module")
def classifier_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    corpus = sst2_corpus(tmp_path_factory.mktemp("sst2-corpus"))
    run, _ = train_run(tmp_path_factory.mktemp("classifier-run"), "data=sst2", "model=classifier",
                       f"data.corpus.root={corpus}", "data.batch_size=4", "trainer.max_epochs=3")
    return run


def _stdin(monkeypatch: pytest.MonkeyPatch, data: bytes) -> None:
    monkeypatch.setattr(sys, "stdin", types.SimpleNamespace(buffer=io.BytesIO(data)))


def _conll(text: str) -> list[list[list[str]]]:
    """Sentences of ``[token, tag]`` rows; a blank line ends each, an empty sentence too."""
    sentences, rows = [], []
    for line in text.split("\n")[:-1]:
        if line:
            rows.append(line.split("\t"))
        else:
            sentences.append(rows)
            rows = []
    assert not rows, "the output must end with a blank line"
    return sentences


def test_predict_text_file_to_conll_one_sentence_per_line(tagger_run: Path, tmp_path: Path, capsys):
    source = tmp_path / "news.txt"
    source.write_text("\n".join(TEXT) + "\n", encoding="utf-8")
    seqtag_predict([str(tagger_run), str(source)])
    sentences = _conll(capsys.readouterr().out)
    expected = seqtag.load(tagger_run).predict(TEXT)
    assert len(sentences) == len(TEXT) and sentences[1] == []  # the empty line is an empty sentence
    assert sentences == [[[t, g] for t, g in zip(s.tokens, s.tags, strict=True)] for s in expected]
    assert [row[0] for row in sentences[0]] == ["Peter", "visited", "Paris", "."]
    assert any(tag != "O" for rows in sentences for _, tag in rows)


def test_predict_stdin_to_jsonl_with_entities(tagger_run: Path, monkeypatch: pytest.MonkeyPatch, capsys):
    data = ("\n".join(TEXT) + "\n").encode() + b"Peter \xff visited Rome\x07 .\n"
    _stdin(monkeypatch, data)
    seqtag_predict([str(tagger_run), "--format", "jsonl"])
    captured = capsys.readouterr()
    records = [json.loads(line) for line in captured.out.splitlines()]
    assert len(records) == len(TEXT) + 1  # one per input line
    assert "line 5: invalid UTF-8" in captured.err
    assert records[1] == {"tokens": [], "tags": [], "entities": [], "text": ""}
    assert records[4]["tokens"] == ["Peter", "\ufffd", "visited", "Rome", "."]
    expected = [s.to_dict() for s in seqtag.load(tagger_run).predict(TEXT)]
    assert records[: len(TEXT)] == expected
    # the model learned its corpus' patterns: entities of one and of two tokens
    assert [(e["text"], e["type"], e["start_char"]) for e in records[3]["entities"]] == [
        ("Anna Smith", "PER", 0), ("Fiat", "ORG", 18)]
    for record in records:
        assert record["text"] is not None
        for entity in record["entities"]:
            assert record["text"][entity["start_char"] : entity["end_char"]] == entity["text"]
            assert " ".join(record["tokens"][entity["start"] : entity["end"]]) == entity["text"]
            assert record["tags"][entity["start"]] == f"B-{entity['type']}"


def test_predict_tokenized_file_with_documents(tagger_run: Path, tmp_path: Path):
    source = tmp_path / "tokens.txt"
    source.write_text("-DOCSTART- -X- O\n\nPeter NNP\nvisited\nParis\n\n\nThe\nEU\n-DOCSTART-\nAnna\nleft\n")
    out = tmp_path / "out.conll"
    seqtag_predict([str(tagger_run), str(source), "--tokenized", "--output", str(out)])
    sentences = _conll(out.read_text(encoding="utf-8"))
    tokens = [["Peter", "visited", "Paris"], ["The", "EU"], ["Anna", "left"]]
    assert [[row[0] for row in s] for s in sentences] == tokens
    expected = seqtag.load(tagger_run).predict(tokens, docs=[1, 1, 2])
    assert [[row[1] for row in s] for s in sentences] == [s.tags for s in expected]


def test_predict_in_bf16_gives_the_fp32_tags_on_a_confident_model(tagger_run: Path, tmp_path: Path, capsys):
    if not torch.ops.mkldnn._is_mkldnn_bf16_supported():
        pytest.skip("this CPU has no native bfloat16")
    source = tmp_path / "news.txt"
    source.write_text("\n".join(TEXT) + "\n", encoding="utf-8")
    seqtag_predict([str(tagger_run), str(source), "--precision", "bf16", "--batch-size", "1"])
    low = _conll(capsys.readouterr().out)
    seqtag_predict([str(tagger_run), str(source)])
    assert low == _conll(capsys.readouterr().out)
    with pytest.raises(SystemExit):
        seqtag_predict([str(tagger_run), str(source), "--precision", "fp16"])


def test_predict_with_a_classifier_writes_label_and_probability(classifier_run: Path, tmp_path: Path,
                                                               capsys):
    lines = ["a great movie", "", "dull and boring"]
    source = tmp_path / "reviews.txt"
    source.write_text("\n".join(lines) + "\n")
    seqtag_predict([str(classifier_run), str(source)])
    rows = [line.split("\t") for line in capsys.readouterr().out.splitlines()]
    expected = seqtag.load(classifier_run).predict(lines)
    assert len(rows) == 3  # the empty line too: the output lines up with the input
    assert [row[0] for row in rows] == [d.label for d in expected]
    assert all(row[0] in ("0", "1") for row in rows)
    for row, document in zip(rows, expected, strict=True):
        assert row[1] == f"{document.scores[document.label]:.4f}" and float(row[1]) >= 0.5
    seqtag_predict([str(classifier_run), str(source), "--format", "jsonl"])
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["label"] for r in records] == [row[0] for row in rows]
    for record in records:
        assert set(record["scores"]) == {"0", "1"}
        assert sum(record["scores"].values()) == pytest.approx(1.0, abs=1e-5)
        assert record["label"] == max(record["scores"], key=record["scores"].get)
    assert records[0]["tokens"] == ["a", "great", "movie"] and records[1]["text"] == ""


def test_eval_of_a_tagger_writes_conlleval_lines(tagger_run: Path, tmp_path: Path, capsys):
    predictions = tmp_path / "preds.txt"
    seqtag_eval([str(tagger_run), "--quiet", "--output-dir", str(tmp_path / "eval"), "--predictions",
                 str(predictions)])
    output = capsys.readouterr().out
    rows = read_split(seqtag.load(tagger_run).model.source, "test", None)
    tokens = sum(len(row["tokens"]) for row in rows)
    assert f"on split test: {len(rows)} examples, {tokens} tokens" in output
    assert "micro avg" in output and "most frequent confusions" in output
    scores = json.loads((tmp_path / "eval" / "test_metrics.json").read_text())
    trained = json.loads((tagger_run / "metrics.json").read_text())
    assert scores["f1"] == pytest.approx(trained["test/f1"], abs=1e-6) and scores["unknown_tags"] == {}

    blocks = predictions.read_text(encoding="utf-8").split("\n\n")
    assert blocks[-1] == ""  # a blank line after every sentence
    sentences = [[line.split(" ") for line in block.split("\n")] for block in blocks[:-1]]
    assert len(sentences) == len(rows)
    predicted = seqtag.load(tagger_run).predict([list(row["tokens"]) for row in rows],
                                                docs=[row["doc"] for row in rows])
    for sentence, row, result in zip(sentences, rows, predicted, strict=True):
        assert sentence == [list(line) for line in zip(row["tokens"], row["tags"], result.tags, strict=True)]


def test_eval_of_a_file_names_the_gold_tags_the_model_does_not_know(tagger_run: Path, tmp_path: Path, capsys):
    clean = tmp_path / "clean.txt"
    clean.write_text("Peter B-PER\nvisited O\nParis B-LOC\n. O\n\nAnna B-PER\nleft O\nRome B-LOC\n\n")
    odd = tmp_path / "odd.txt"
    odd.write_text(clean.read_text().replace("Paris B-LOC", "Paris WEIRD").replace("Anna B-PER",
                                                                                    "Anna B-PERSON"))
    scores = {}
    for path in (clean, odd):
        seqtag_eval([str(tagger_run), "--file", str(path), "--quiet", "--output-dir", str(tmp_path / "eval")])
        scores[path.stem] = json.loads((tmp_path / "eval" / f"{path.stem}_metrics.json").read_text())
    output = capsys.readouterr().out
    assert scores["clean"]["unknown_tags"] == {}
    assert scores["odd"]["recall"] < scores["clean"]["recall"]  # unknown tags are scored as errors
    # named as the file writes them (a tag without an IOB prefix is scored as B-WEIRD)
    assert "gold labels the model does not know (scored as errors): WEIRD (1), B-PERSON (1)" in output
    assert scores["odd"]["unknown_tags"] == {"WEIRD": 1, "B-PERSON": 1}


def test_eval_of_a_checkpoint_scores_like_the_run(tagger_run: Path, tmp_path: Path, capsys):
    (best,) = (tagger_run / "checkpoints").glob("best*.ckpt")
    seqtag_eval([str(best), "--quiet", "--output-dir", str(tmp_path)])
    assert f"seqtag-eval {best} on split test" in capsys.readouterr().out
    scores = json.loads((tmp_path / "test_metrics.json").read_text())
    assert scores["f1"] == pytest.approx(json.loads((tagger_run / "metrics.json").read_text())["test/f1"],
                                         abs=1e-6)


def test_eval_of_a_classifier_writes_gold_and_predicted_labels(classifier_run: Path, tmp_path: Path, capsys):
    predictions = tmp_path / "preds.txt"
    seqtag_eval([str(classifier_run), "--quiet", "--output-dir", str(tmp_path), "--predictions",
                 str(predictions)])
    output = capsys.readouterr().out
    rows = read_split(seqtag.load(classifier_run).model.source, "test", None)
    assert f"on split test: {len(rows)} examples, {len(rows)} documents" in output
    assert "accuracy:" in output and "confusion (documents" in output
    labels = seqtag.load(classifier_run).predict([row["text"] for row in rows])
    lines = predictions.read_text().splitlines()
    assert lines == [f"{row['label']} {d.label}" for row, d in zip(rows, labels, strict=True)]
    scores = json.loads((tmp_path / "test_metrics.json").read_text())
    trained = json.loads((classifier_run / "metrics.json").read_text())
    for name in ("acc", "f1_pos", "precision_pos", "recall_pos"):
        assert scores[name] == pytest.approx(trained[f"test/{name}"], abs=1e-6), name

    odd = tmp_path / "odd.tsv"
    odd.write_text("sentence\tlabel\na great movie\t1\ndull and boring\tneutral\n")
    seqtag_eval([str(classifier_run), "--file", str(odd), "--text-column", "sentence", "--quiet",
                 "--output-dir", str(tmp_path)])
    assert "gold labels the model does not know (scored as errors): neutral (1)" in capsys.readouterr().out
    assert json.loads((tmp_path / "odd_metrics.json").read_text())["unknown_tags"] == {"neutral": 1}


def test_bad_inputs_end_with_one_line(tagger_run: Path, tmp_path: Path):
    garbage = tmp_path / "x.ckpt"
    garbage.write_bytes(b"\x00garbage")
    for main, args, expected in [
        (seqtag_predict, [str(tmp_path / "nothing.pt")], "nothing.pt: no such file or directory"),
        (seqtag_predict, [str(garbage)], "x.ckpt: not a seqtag model"),
        (seqtag_predict, [str(tagger_run), str(tmp_path / "none.txt")], "none.txt: no such input file"),
        (seqtag_eval, [str(tmp_path / "nothing.pt")], "nothing.pt: no such file or directory"),
        (seqtag_eval, [str(tagger_run), "--file", str(tmp_path / "missing.conll")],
         "missing.conll: no such file"),
    ]:
        with pytest.raises(SystemExit) as exit_:
            main(args)
        message = str(exit_.value.code)
        prog = "seqtag-predict" if main is seqtag_predict else "seqtag-eval"
        assert message.startswith(f"{prog}: ") and expected in message and "\n" not in message, args
