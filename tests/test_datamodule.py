"""The data module: a corpus read, prepared and encoded by a task, served as padded batches."""

import pytest
import torch

from seqtag.data.corpus import ColumnCorpus, ConlluCorpus, LabelledTextCorpus
from seqtag.data.datamodule import DataModule
from seqtag.data.vectors import VectorsFile
from seqtag.errors import ConfigError, CorpusFormatError, DataNotFoundError
from seqtag.tasks import DocumentClassification, EntityTagging, TokenTagging

FILES = {"train": "train.txt", "validation": "valid.txt", "test": "test.txt"}
# IOB1: chunks start with I-, B- only between two adjacent chunks of one type
TRAIN = "Peter I-PER\nBlackburn I-PER\nJohn B-PER\nsaw O\nParis I-LOC\n\nthe O\nEU I-ORG\nsaw O\n\n"
VALID = "Berlin I-LOC\nsaw O\nthe O\n\n"
TEST = "Rome I-LOC\nzzyzx O\n\n"


@pytest.fixture
def corpus(tmp_path):
    for name, text in zip(FILES.values(), (TRAIN, VALID, TEST), strict=True):
        (tmp_path / name).write_text(text)
    return ColumnCorpus(str(tmp_path), FILES, token_column=0, tag_column=1, scheme="auto")


@pytest.fixture
def vectors(tmp_path):
    path = tmp_path / "vectors.txt"
    path.write_text("berlin 1 0\nrome 0 1\nthe 1 1\n")
    return VectorsFile(str(path))


def _setup(corpus, tmp_path, task=None, **kwargs) -> DataModule:
    dm = DataModule(task or EntityTagging(), corpus, cache_dir=str(tmp_path / "cache"), batch_size=2,
                    **kwargs)
    dm.setup("fit")
    return dm


def _tags(dm: DataModule, split: str) -> list[list[str]]:
    return [[dm.vocabs.tags.itos[i] for i in ex["tags"]] for ex in dm.splits[split]]


def test_iob1_is_detected_and_converted(corpus, tmp_path):
    dm = _setup(corpus, tmp_path)
    assert _tags(dm, "train")[0] == ["B-PER", "I-PER", "B-PER", "O", "B-LOC"]
    assert dm.vocabs.scheme == "iob2" and isinstance(dm.task, EntityTagging)


def test_iobes_training_scheme(corpus, tmp_path):
    dm = _setup(corpus, tmp_path, EntityTagging(train_scheme="iobes"))
    assert _tags(dm, "train")[0] == ["B-PER", "E-PER", "S-PER", "O", "S-LOC"]
    assert "S-LOC" in dm.vocabs.tags and dm.vocabs.scheme == "iobes"


# IOB1 in every split, with chunks that only a conversion tells apart: B- between
# two adjacent chunks of one type, I- of another type right after a chunk
IOB1 = {
    "train": ("EU I-ORG\nrejects O\nGerman I-MISC\ncall O\n\n"
              "Peter I-PER\nBlackburn I-PER\nJohn B-PER\nSmith I-PER\n\n"),
    "validation": "Berlin I-LOC\nBonn B-LOC\nsaw O\nPeter I-PER\nEU I-ORG\n\n",
    "test": "the O\nRome I-LOC\nParis B-LOC\nJohn I-PER\n\nSmith I-PER\n\n",
}
IOB2 = {
    "train": [["B-ORG", "O", "B-MISC", "O"], ["B-PER", "I-PER", "B-PER", "I-PER"]],
    "validation": [["B-LOC", "B-LOC", "O", "B-PER", "B-ORG"]],
    "test": [["O", "B-LOC", "B-LOC", "B-PER"], ["B-PER"]],
}
IOBES = {
    "train": [["S-ORG", "O", "S-MISC", "O"], ["B-PER", "E-PER", "B-PER", "E-PER"]],
    "validation": [["S-LOC", "S-LOC", "O", "S-PER", "S-ORG"]],
    "test": [["O", "S-LOC", "S-LOC", "S-PER"], ["S-PER"]],
}


@pytest.fixture
def iob1_corpus(tmp_path):
    root = tmp_path / "iob1"
    root.mkdir()
    for split, name in FILES.items():
        (root / name).write_text(IOB1[split])
    return ColumnCorpus(str(root), FILES, scheme="auto")


def test_iob1_is_converted_in_every_split(iob1_corpus, tmp_path):
    dm = _setup(iob1_corpus, tmp_path)
    for split in ("train", "validation", "test"):
        assert _tags(dm, split) == IOB2[split], split
    # and the IOB2 tags are what is scored
    assert dm.task.label_strings(dm.vocabs, dm.splits["test"][0]["tags"]) == IOB2["test"][0]


def test_iobes_training_scheme_in_every_split_scores_iob2(iob1_corpus, tmp_path):
    task = EntityTagging(train_scheme="iobes")
    dm = _setup(iob1_corpus, tmp_path, task)
    assert dm.vocabs.scheme == "iobes"
    for split in ("train", "validation", "test"):
        assert _tags(dm, split) == IOBES[split], split
        # scores, predictions and reports read the model's IOBES ids as IOB2
        assert [task.label_strings(dm.vocabs, ex["tags"]) for ex in dm.splits[split]] == IOB2[split], split
    assert not any(tag.startswith(("I-", "E-")) for seq in IOBES["validation"] for tag in seq)


def test_vocab_from_train_plus_dev_test_words_with_vectors(corpus, tmp_path, vectors):
    dm = _setup(corpus, tmp_path, vectors=vectors)
    words = dm.vocabs.words
    assert {"Peter", "Blackburn", "saw", "the"} <= set(words.itos)
    assert "Berlin" in words and "Rome" in words  # dev/test words that have a vector
    assert "zzyzx" not in words  # test word without a vector stays unknown
    test_ids = dm.splits["test"][0]["words"].tolist()
    assert test_ids == [words.index("Rome"), words.index("<unk>")]
    # without vectors, dev/test words stay out of the vocabulary
    plain = _setup(corpus, tmp_path / "plain")
    assert "Berlin" not in plain.vocabs.words and "Rome" not in plain.vocabs.words


def test_min_freq_and_no_vectors(corpus, tmp_path):
    dm = _setup(corpus, tmp_path, min_freq=2)
    assert set(dm.vocabs.words.itos) == {"<pad>", "<unk>", "saw"}


def test_batches_are_padded_with_masks(corpus, tmp_path):
    dm = _setup(corpus, tmp_path)
    batch = next(iter(dm.val_dataloader()))
    assert batch["words"].shape == batch["tags"].shape == batch["mask"].shape
    assert set(batch) == {"words", "case", "chars", "chars_table", "starts", "tags", "lengths", "mask"}
    assert batch["lengths"].tolist() == [3]
    train_tokens = sum(int(b["mask"].sum()) for b in dm.train_dataloader())
    assert train_tokens == 8


def test_token_task_from_conllu(tmp_path):
    line = "{i}\t{w}\t{w}\t{u}\tX\t_\t0\troot\t_\t_\n"
    text = line.format(i=1, w="Dogs", u="NOUN") + line.format(i=2, w="bark", u="VERB") + "\n"
    for name in ("t.conllu", "d.conllu"):
        (tmp_path / name).write_text(text)
    corpus = ConlluCorpus(str(tmp_path), {"train": "t.conllu", "validation": "d.conllu"})
    dm = _setup(corpus, tmp_path, TokenTagging())
    assert dm.task.metric == "acc" and dm.vocabs.scheme == "none"
    assert dm.vocabs.tags.itos == ["NOUN", "VERB"]
    with pytest.raises(DataNotFoundError, match="no 'test' split"):
        dm.test_dataloader()


def test_entity_task_on_plain_tags_is_refused(tmp_path):
    (tmp_path / "t.txt").write_text("Dogs NOUN\nbark VERB\n\n")
    files = {"train": "t.txt", "validation": "t.txt"}
    corpus = ColumnCorpus(str(tmp_path), files, tag_column=1, scheme="none")
    with pytest.raises(CorpusFormatError, match="use data/task=token") as info:
        _setup(corpus, tmp_path, EntityTagging())
    assert str(tmp_path) in str(info.value)
    # the same corpus is fine as plain token tags
    assert _setup(corpus, tmp_path, TokenTagging()).vocabs.tags.itos == ["NOUN", "VERB"]


def test_unknown_metric_is_refused():
    with pytest.raises(ConfigError, match="metric='bleu'"):
        EntityTagging(metric="bleu")
    with pytest.raises(ConfigError, match="metric='f1'"):
        TokenTagging(metric="f1")
    with pytest.raises(ConfigError, match="train_scheme"):
        EntityTagging(train_scheme="iob1")


def test_max_examples_limits_every_split(corpus, tmp_path):
    dm = _setup(corpus, tmp_path, max_examples=1)
    assert [len(dm.splits[s]) for s in ("train", "validation", "test")] == [1, 1, 1]
    # the first sentence of each split, for tagged corpora
    assert _tags(dm, "train") == [["B-PER", "I-PER", "B-PER", "O", "B-LOC"]]
    assert isinstance(next(iter(dm.train_dataloader()))["words"], torch.Tensor)


def test_validation_is_carved_from_train_when_the_corpus_has_none(tmp_path):
    text = "".join(f"w{i} O\nx{i} B-PER\n\n" for i in range(20))
    (tmp_path / "t.txt").write_text(text)
    # every word has a vector, so validation words are in the vocabulary and can be told apart
    (tmp_path / "v.txt").write_text("".join(f"{w}{i} 1 0\n" for i in range(20) for w in "wx"))
    corpus = ColumnCorpus(str(tmp_path), {"train": "t.txt"})

    def held(dm):
        return sorted(dm.vocabs.words.itos[ex["words"][0]] for ex in dm.splits["validation"])

    def trained(dm):
        return sorted(dm.vocabs.words.itos[ex["words"][0]] for ex in dm.splits["train"])

    vectors = VectorsFile(str(tmp_path / "v.txt"))
    runs = [_setup(corpus, tmp_path, val_fraction=0.25, seed=seed, vectors=vectors) for seed in (1, 2)]
    dm = runs[0]
    assert len(dm.splits["train"]) == 15 and len(dm.splits["validation"]) == 5
    assert sorted(held(dm) + trained(dm)) == sorted(f"w{i}" for i in range(20))
    # the run seed does not move sentences between train and validation; split_seed does
    assert held(runs[0]) == held(runs[1])
    other = _setup(corpus, tmp_path, val_fraction=0.25, split_seed=3, vectors=vectors)
    assert held(other) != held(dm)
    assert dm.source()["val_fraction"] == 0.25 and dm.source()["corpus"]["type"] == "column"


def test_val_split_other_than_random_needs_a_corpus_without_validation(corpus, tmp_path):
    with pytest.raises(ConfigError, match="own validation file"):
        _setup(corpus, tmp_path, val_split="sentences")


DOCS = (
    "-DOCSTART- O\n\nPeter B-PER\nsaw O\n\nParis B-LOC\n\nthe O\nEU B-ORG\n\n"
    "-DOCSTART- O\n\nRome B-LOC\nfell O\n\n"
)


def test_document_context_joins_sentences_of_one_document(tmp_path):
    for name in FILES.values():
        (tmp_path / name).write_text(DOCS)
    corpus = ColumnCorpus(str(tmp_path), FILES, token_column=0, tag_column=1)
    dm = _setup(corpus, tmp_path, EntityTagging(context_tokens=3))
    words = dm.vocabs.words
    joined = dm.splits["test"]
    # document 1 (2 + 1 + 2 tokens) packs into [2 + 1] and [2]; document 2 stays apart
    assert [ex["words"].tolist() for ex in joined] == [
        words.indices(["Peter", "saw", "Paris"]), words.indices(["the", "EU"]),
        words.indices(["Rome", "fell"]),
    ]
    assert [ex["starts"].tolist() for ex in joined] == [[1, 0, 1], [1, 0], [1, 0]]
    assert joined[0]["chars"].shape == (3, 5)  # padded to the widest word of the example
    assert _tags(dm, "test")[0] == ["B-PER", "O", "B-LOC"]
    single = _setup(corpus, tmp_path / "single")
    assert len(single.splits["test"]) == 4
    assert all(ex["starts"].tolist() == [1] + [0] * (len(ex["words"]) - 1) for ex in single.splits["test"])


def test_negative_context_is_refused():
    with pytest.raises(ConfigError, match="context_tokens"):
        EntityTagging(context_tokens=-1)
    with pytest.raises(ConfigError, match="context_tokens"):
        TokenTagging(context_tokens=-1)


# --- bad input: the error names the file and the line ---------------------------------------


def test_malformed_validation_line_names_file_and_line(corpus, tmp_path):
    path = tmp_path / "valid.txt"
    path.write_text("Berlin I-LOC\nsaw O\n\nthe O extra\n")
    with pytest.raises(CorpusFormatError) as info:
        _setup(corpus, tmp_path)
    assert info.value.line == 4 and info.value.path == str(path.resolve())
    assert f"{path.resolve()}, line 4: expected 2 columns, found 3" in str(info.value)


def test_tag_outside_the_scheme_names_file_and_line(tmp_path):
    for name, text in zip(FILES.values(), ("EU B-ORG\n\n", "Rome B-LOC\n\n", "x O\nRome S-LOC\n\n"),
                          strict=True):
        (tmp_path / name).write_text(text)
    corpus = ColumnCorpus(str(tmp_path), FILES, scheme="iob2")
    with pytest.raises(CorpusFormatError, match=r"test\.txt, line 2: .*'S-LOC'"):
        _setup(corpus, tmp_path)


def test_bad_labelled_row_names_file_and_line(tmp_path):
    (tmp_path / "train.csv").write_text("text,label\ngood,pos\nbad,neg\nno label here\n")
    corpus = LabelledTextCorpus(str(tmp_path), {"train": "train.csv"})
    with pytest.raises(CorpusFormatError, match=r"train\.csv, line 4: expected 2 fields, found 1"):
        _setup(corpus, tmp_path, DocumentClassification())


def test_missing_corpus_files_name_the_paths(tmp_path):
    corpus = ColumnCorpus(str(tmp_path / "nowhere"), FILES)
    with pytest.raises(DataNotFoundError, match="SEQTAG_DATA_DIR") as info:
        _setup(corpus, tmp_path)
    assert str(tmp_path / "nowhere" / "train.txt") in str(info.value)
