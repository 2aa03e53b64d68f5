"""Corpora on disk as ``datasets`` splits, with clear errors for missing, empty and malformed files."""

from __future__ import annotations

import os
import re

import datasets
import pytest

from seqtag.data.corpus import ColumnCorpus, ConlluCorpus
from seqtag.errors import ConfigError, CorpusFormatError, DataNotFoundError
from seqtag.registry import lookup
from seqtag.schemes import UnknownSchemeError

FILES = {"train": "train.txt", "validation": "valid.txt", "test": "test.txt"}

TRAIN = """-DOCSTART- -X- -X- O

EU NNP B-NP B-ORG
rejects VBZ B-VP O
German JJ B-NP B-MISC

Peter NNP B-NP B-PER
Blackburn NNP I-NP I-PER
"""
VALID = "CRICKET NNP B-NP O\n-NNP : O O\n\n"
TEST = "-DOCSTART- -X- -X- O\n\nSOCCER NN B-NP O\nJAPAN NNP B-NP B-LOC\n\n"


@pytest.fixture
def corpus_dir(tmp_path):
    root = tmp_path / "conll"
    root.mkdir()
    (root / "train.txt").write_text(TRAIN, encoding="utf-8")
    (root / "valid.txt").write_text(VALID, encoding="utf-8")
    (root / "test.txt").write_text(TEST, encoding="utf-8")
    return root


@pytest.fixture
def cache(tmp_path):
    return str(tmp_path / "cache")


def test_column_corpus_loads_tokens_and_tags(corpus_dir, cache):
    splits = ColumnCorpus(str(corpus_dir), FILES).load(cache)
    assert isinstance(splits, datasets.DatasetDict)
    assert set(splits) == {"train", "validation", "test"}
    assert splits["train"]["tokens"] == [["EU", "rejects", "German"], ["Peter", "Blackburn"]]
    assert splits["train"]["tags"] == [["B-ORG", "O", "B-MISC"], ["B-PER", "I-PER"]]
    assert splits["validation"]["tokens"] == [["CRICKET", "-NNP"]]
    assert splits["validation"]["tags"] == [["O", "O"]]
    assert splits["test"]["tokens"] == [["SOCCER", "JAPAN"]]
    assert splits["test"]["tags"] == [["O", "B-LOC"]]
    assert list(splits["train"].features) == ["tokens", "tags", "doc"]
    # the cache went where it was told
    assert os.listdir(cache)


def test_column_corpus_other_tag_column(corpus_dir, cache):
    splits = ColumnCorpus(str(corpus_dir), {"train": "train.txt"}, tag_column=2, scheme="iob2").load(cache)
    assert set(splits) == {"train"}
    assert splits["train"]["tags"] == [["B-NP", "B-VP", "B-NP"], ["B-NP", "I-NP"]]


def test_scheme_is_checked_while_reading(corpus_dir, cache):
    (corpus_dir / "test.txt").write_text("a NN B-NP O\nb NN B-NP S-LOC\n", encoding="utf-8")
    # auto accepts IOBES prefixes ...
    splits = ColumnCorpus(str(corpus_dir), FILES).load(cache)
    assert splits["test"]["tags"] == [["O", "S-LOC"]]
    # ... iob2 does not, and says where
    with pytest.raises(CorpusFormatError) as info:
        ColumnCorpus(str(corpus_dir), FILES, scheme="iob2").load(cache)
    assert info.value.line == 2
    assert "test.txt, line 2" in str(info.value)
    assert "'S-LOC'" in str(info.value)


def test_missing_folder_lists_paths_and_data_dir_advice(tmp_path, cache):
    root = tmp_path / "no" / "such" / "corpus"
    with pytest.raises(DataNotFoundError) as info:
        ColumnCorpus(str(root), FILES).load(cache)
    message = str(info.value)
    for name in FILES.values():
        assert str(root / name) in message
    assert "SEQTAG_DATA_DIR" in message


def test_only_the_missing_file_is_listed(corpus_dir, cache):
    (corpus_dir / "valid.txt").unlink()
    with pytest.raises(DataNotFoundError) as info:
        ColumnCorpus(str(corpus_dir), FILES).load(cache)
    message = str(info.value)
    assert str(corpus_dir / "valid.txt") in message
    assert str(corpus_dir / "train.txt") not in message
    assert str(corpus_dir / "test.txt") not in message


def test_hub_fallback_fails_cleanly_offline(tmp_path, cache, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    # both libraries read the variable at import; make sure they see offline mode now
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", True, raising=False)
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True, raising=False)
    root = tmp_path / "missing"
    corpus = ColumnCorpus(str(root), FILES, hub_id="someone/nonexistent-dataset")
    with pytest.raises(Exception) as info:
        corpus.load(cache)
    err = info.value
    # a clean seqtag error, not whatever the hub library raised
    assert type(err) is DataNotFoundError
    message = str(err)
    assert "'someone/nonexistent-dataset'" in message
    assert str(root / "train.txt") in message
    assert "SEQTAG_DATA_DIR" in message
    assert err.__suppress_context__


def test_zero_byte_split_file(corpus_dir, cache):
    (corpus_dir / "valid.txt").write_bytes(b"")
    with pytest.raises(CorpusFormatError) as info:
        ColumnCorpus(str(corpus_dir), FILES).load(cache)
    assert info.value.line is None
    assert "valid.txt" in str(info.value)
    assert "empty" in str(info.value)


@pytest.mark.parametrize("text", ["\n\n\n", "-DOCSTART- -X- -X- O\n\n", "# only a comment\n"])
def test_split_file_without_sentences(corpus_dir, cache, text):
    (corpus_dir / "test.txt").write_text(text, encoding="utf-8")
    with pytest.raises(CorpusFormatError) as info:
        ColumnCorpus(str(corpus_dir), FILES, comment_prefix="#").load(cache)
    assert "test.txt" in str(info.value)
    assert re.search(r": no (sentences|examples|documents)\b.* found", str(info.value))
    assert info.value.line is None


def test_malformed_line_raises_corpus_format_error_not_a_datasets_error(corpus_dir, cache):
    path = corpus_dir / "valid.txt"
    path.write_text("CRICKET NNP B-NP O\n\nLEICESTERSHIRE NNP O\nTAKE NNP I-NP O\n", encoding="utf-8")
    with pytest.raises(CorpusFormatError) as info:
        ColumnCorpus(str(corpus_dir), FILES).load(cache)
    err = info.value
    assert not isinstance(err, datasets.exceptions.DatasetGenerationError)
    assert err.line == 3
    assert err.path == str(path.resolve())
    assert f"{path.resolve()}, line 3" in str(err)
    assert "expected 4 columns, found 3" in str(err)


def test_non_utf8_split(corpus_dir, cache):
    (corpus_dir / "train.txt").write_bytes(b"EU B-ORG\nM\xfcller B-PER\n")
    with pytest.raises(CorpusFormatError, match=r"train\.txt, line 2: not valid UTF-8"):
        ColumnCorpus(str(corpus_dir), FILES).load(cache)


def test_fixed_file_loads_after_an_error(corpus_dir, cache):
    path = corpus_dir / "train.txt"
    path.write_text("EU B-ORG\nbad\n", encoding="utf-8")
    with pytest.raises(CorpusFormatError):
        ColumnCorpus(str(corpus_dir), FILES).load(cache)
    path.write_text("EU B-ORG\n", encoding="utf-8")
    assert ColumnCorpus(str(corpus_dir), FILES).load(cache)["train"]["tokens"] == [["EU"]]


def test_edited_file_is_read_again(corpus_dir, cache):
    corpus = ColumnCorpus(str(corpus_dir), FILES)
    path = corpus_dir / "train.txt"
    first = corpus.load(cache)
    assert first["train"]["tokens"][0] == ["EU", "rejects", "German"]
    # an unchanged file is served from the cache with the same content
    assert corpus.load(cache)["train"]["tokens"] == first["train"]["tokens"]

    # a different size
    path.write_text("Rome B-LOC\n", encoding="utf-8")
    assert corpus.load(cache)["train"]["tokens"] == [["Rome"]]
    assert corpus.load(cache)["train"]["tags"] == [["B-LOC"]]

    # the same size: only the modification time tells the versions apart
    before = path.stat()
    path.write_text("Oslo B-LOC\n", encoding="utf-8")
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns + 2_000_000_000))
    assert path.stat().st_size == before.st_size
    assert corpus.load(cache)["train"]["tokens"] == [["Oslo"]]

    # the other splits did not change
    assert corpus.load(cache)["test"]["tokens"] == [["SOCCER", "JAPAN"]]


def test_conllu_corpus(tmp_path, cache):
    def line(i, form, upos, xpos):
        return "\t".join([i, form, "_", upos, xpos, "_", "0", "_", "_", "_"]) + "\n"

    text = (
        "# sent_id = 1\n"
        + line("1-2", "del", "_", "_")
        + line("1", "de", "ADP", "SP")
        + line("2", "el", "DET", "DA")
        + line("3", "mar", "NOUN", "NC")
        + "\n"
    )
    root = tmp_path / "ud"
    root.mkdir()
    (root / "train.conllu").write_text(text, encoding="utf-8")
    dev = line("1", "sí", "INTJ", "I") + line("1.1", "x", "X", "X")
    (root / "dev.conllu").write_text(dev, encoding="utf-8")
    files = {"train": "train.conllu", "validation": "dev.conllu"}
    splits = ConlluCorpus(str(root), files).load(cache)
    assert splits["train"]["tokens"] == [["de", "el", "mar"]]
    assert splits["train"]["tags"] == [["ADP", "DET", "NOUN"]]
    assert splits["validation"]["tokens"] == [["sí"]]
    xpos = ConlluCorpus(str(root), files, tag_field="xpos").load(cache)
    assert xpos["train"]["tags"] == [["SP", "DA", "NC"]]
    assert xpos["validation"]["tags"] == [["I"]]


def test_conllu_corpus_bad_line(tmp_path, cache):
    root = tmp_path / "ud"
    root.mkdir()
    (root / "train.conllu").write_text("# c\n1\tde\t_\tADP\n", encoding="utf-8")
    with pytest.raises(CorpusFormatError, match=r"train\.conllu, line 2: .*found 4"):
        ConlluCorpus(str(root), {"train": "train.conllu"}).load(cache)


def test_constructor_validation(tmp_path):
    with pytest.raises(ValueError, match="train"):
        ColumnCorpus(str(tmp_path), {"validation": "v.txt"})
    with pytest.raises(ValueError, match="dev"):
        ColumnCorpus(str(tmp_path), {"train": "t.txt", "dev": "d.txt"})
    with pytest.raises(UnknownSchemeError):
        ColumnCorpus(str(tmp_path), {"train": "t.txt"}, scheme="bio")
    with pytest.raises(ValueError, match="upos"):
        ConlluCorpus(str(tmp_path), {"train": "t.conllu"}, tag_field="lemma")


# --- splits(): the one reading path -------------------------------------------------------------


def test_splits_keep_the_corpus_validation_file(corpus_dir, cache):
    splits = ColumnCorpus(str(corpus_dir), FILES).splits(cache)
    assert splits["validation"]["tokens"] == [["CRICKET", "-NNP"]]
    with pytest.raises(ConfigError, match="own validation file"):
        ColumnCorpus(str(corpus_dir), FILES).splits(cache, val_split="sentences")


def test_splits_carve_validation_by_split_seed(tmp_path, cache):
    (tmp_path / "t.txt").write_text("".join(f"w{i} O\n\n" for i in range(40)), encoding="utf-8")
    corpus = ColumnCorpus(str(tmp_path), {"train": "t.txt"})
    first = corpus.splits(cache, val_fraction=0.25, split_seed=0)
    assert (len(first["train"]), len(first["validation"])) == (30, 10)
    assert sorted(list(first["train"]["tokens"]) + list(first["validation"]["tokens"])) == sorted(
        [f"w{i}"] for i in range(40))
    held = list(first["validation"]["tokens"])
    assert list(corpus.splits(cache, val_fraction=0.25, split_seed=0)["validation"]["tokens"]) == held
    assert list(corpus.splits(cache, val_fraction=0.25, split_seed=1)["validation"]["tokens"]) != held
    for bad in (0.0, 1.0):
        with pytest.raises(ConfigError, match="val_fraction"):
            corpus.splits(cache, val_fraction=bad)
    with pytest.raises(ConfigError, match="val_split"):
        corpus.splits(cache, val_split="sentences")


def test_max_examples_keeps_the_first_sentences_of_each_split(corpus_dir, cache):
    splits = ColumnCorpus(str(corpus_dir), FILES).splits(cache, max_examples=1)
    assert splits["train"]["tokens"] == [["EU", "rejects", "German"]]
    assert [len(splits[s]) for s in ("train", "validation", "test")] == [1, 1, 1]
    assert len(ColumnCorpus(str(corpus_dir), FILES).splits(cache, max_examples=100)["train"]) == 2


def test_corpus_rebuilds_from_its_saved_dict(corpus_dir, tmp_path, cache):
    for corpus in (ColumnCorpus(str(corpus_dir), FILES, tag_column=2, scheme="iob2", separator=" "),
                   ConlluCorpus(str(tmp_path), {"train": "t.conllu"}, tag_field="xpos")):
        saved = corpus.to_dict()
        options = {k: v for k, v in saved.items() if k != "type"}
        again = lookup("corpus", saved["type"])(**options)
        assert type(again) is type(corpus) and again.to_dict() == saved
    column = ColumnCorpus(str(corpus_dir), FILES, tag_column=2, scheme="iob2")
    options = {k: v for k, v in column.to_dict().items() if k != "type"}
    tags = ColumnCorpus(**options).load(cache)["train"]["tags"]
    assert tags == [["B-NP", "B-VP", "B-NP"], ["B-NP", "I-NP"]]


def test_labelled_text_without_rows_names_the_file(tmp_path, cache):
    from seqtag.data.corpus import LabelledTextCorpus

    (tmp_path / "train.csv").write_text("text,label\n", encoding="utf-8")
    with pytest.raises(CorpusFormatError) as info:
        LabelledTextCorpus(str(tmp_path), {"train": "train.csv"}).load(cache)
    assert "train.csv" in str(info.value) and info.value.line is None
    (tmp_path / "train.csv").write_text("text,label\ngood,pos\n\"bad\",\n", encoding="utf-8")
    with pytest.raises(CorpusFormatError, match=r"train\.csv, line 3: empty label"):
        LabelledTextCorpus(str(tmp_path), {"train": "train.csv"}).load(cache)
