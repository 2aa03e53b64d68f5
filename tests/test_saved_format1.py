"""Models written before the redesign (model format 1, parts named by import path) still
load and give exactly the predictions they gave then (tests/fixtures/format1_expected.json,
written by the code of commit edb5567 that wrote the models)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

import seqtag

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="module")
def expected() -> dict:
    return json.loads((FIXTURES / "format1_expected.json").read_text())


def test_format1_tagger_predicts_the_same_tags(expected: dict) -> None:
    tagger = seqtag.load(FIXTURES / "tagger_format1.pt")
    in_documents = tagger.predict(expected["tokens"], docs=expected["docs"])
    assert [s.tags for s in in_documents] == expected["tags_in_documents"]
    assert [s.tags for s in tagger.predict(expected["tokens"])] == expected["tags_alone"]
    # the model reads document context (format 1 kept it beside the weights): it must come back,
    # else both lists above would be the sentence-alone tags
    assert tagger.task.context_tokens == 40
    assert expected["tags_in_documents"] != expected["tags_alone"]
    assert [p.to_dict() for p in tagger.predict(expected["texts"])] == expected["text_predictions"]


def test_format1_classifier_gives_the_same_labels_and_probabilities(expected: dict) -> None:
    classifier = seqtag.load(FIXTURES / "classifier_format1.pt")
    results = [r.to_dict() for r in classifier.predict(expected["documents"])]
    assert [r["label"] for r in results] == [r["label"] for r in expected["classifications"]]
    assert [r["tokens"] for r in results] == [r["tokens"] for r in expected["classifications"]]
    for got, want in zip(results, expected["classifications"], strict=True):
        assert got["scores"] == pytest.approx(want["scores"], abs=1e-6)


def test_batch_sizes_and_bf16_keep_the_format1_tags(expected: dict) -> None:
    # batches of one (no padding), of all (length-capped batches), and bfloat16 arithmetic
    tokens = expected["tokens"]
    assert [s.tags for s in seqtag.load(FIXTURES / "tagger_format1.pt", batch_size=1).predict(tokens)] \
        == expected["tags_alone"]
    assert [s.tags for s in seqtag.load(FIXTURES / "tagger_format1.pt", batch_size=512).predict(tokens)] \
        == expected["tags_alone"]
    if not torch.ops.mkldnn._is_mkldnn_bf16_supported():
        pytest.skip("this CPU has no native bfloat16")
    low = seqtag.load(FIXTURES / "tagger_format1.pt", precision="bf16").predict(tokens)
    pairs = [(g, p) for s, want in zip(low, expected["tags_alone"], strict=True)
             for g, p in zip(want, s.tags, strict=True)]
    agree = sum(g == p for g, p in pairs) / len(pairs)
    assert agree >= 0.98, agree
