import pytest
import torch

from seqtag.data.corpus import ColumnCorpus, ConlluCorpus
from seqtag.data.datamodule import TaggingDataModule
from seqtag.data.errors import CorpusFormatError
from seqtag.data.vectors import VectorsFile

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


def _setup(corpus, tmp_path, **kwargs) -> TaggingDataModule:
    dm = TaggingDataModule(corpus, cache_dir=str(tmp_path / "cache"), batch_size=2, **kwargs)
    dm.setup("fit")
    return dm


def test_iob1_is_detected_and_converted(corpus, tmp_path):
    dm = _setup(corpus, tmp_path)
    assert dm.raw["train"]["tags"][0] == ["B-PER", "I-PER", "B-PER", "O", "B-LOC"]
    assert dm.vocabs.scheme == "iob2" and dm.vocabs.task == "entity"


def test_iobes_training_scheme(corpus, tmp_path):
    dm = _setup(corpus, tmp_path, train_scheme="iobes")
    assert dm.raw["train"]["tags"][0] == ["B-PER", "E-PER", "S-PER", "O", "S-LOC"]
    assert "S-LOC" in dm.vocabs.tags and dm.vocabs.scheme == "iobes"


def test_vocab_from_train_plus_dev_test_words_with_vectors(corpus, tmp_path, vectors):
    dm = _setup(corpus, tmp_path, vectors=vectors)
    words = dm.vocabs.words
    assert {"Peter", "Blackburn", "saw", "the"} <= set(words.itos)
    assert "Berlin" in words and "Rome" in words  # dev/test words that have a vector
    assert "zzyzx" not in words  # test word without a vector stays unknown
    test_ids = dm.splits["test"][0]["words"].tolist()
    assert test_ids == [words.index("Rome"), words.index("<unk>")]


def test_min_freq_and_no_vectors(corpus, tmp_path):
    dm = _setup(corpus, tmp_path, min_freq=2)
    assert set(dm.vocabs.words.itos) == {"<pad>", "<unk>", "saw"}


def test_batches_are_padded_with_masks(corpus, tmp_path):
    dm = _setup(corpus, tmp_path)
    batch = next(iter(dm.val_dataloader()))
    assert batch["words"].shape == batch["tags"].shape == batch["mask"].shape
    assert batch["lengths"].tolist() == [3]
    train_tokens = sum(int(b["mask"].sum()) for b in dm.train_dataloader())
    assert train_tokens == 8


def test_token_task_from_conllu(tmp_path):
    line = "{i}\t{w}\t{w}\t{u}\tX\t_\t0\troot\t_\t_\n"
    text = line.format(i=1, w="Dogs", u="NOUN") + line.format(i=2, w="bark", u="VERB") + "\n"
    for name in ("t.conllu", "d.conllu"):
        (tmp_path / name).write_text(text)
    corpus = ConlluCorpus(str(tmp_path), {"train": "t.conllu", "validation": "d.conllu"})
    dm = _setup(corpus, tmp_path, metric="acc")
    assert dm.vocabs.task == "token" and dm.vocabs.scheme == "none"
    assert dm.vocabs.tags.itos == ["NOUN", "VERB"]
    with pytest.raises(KeyError, match="no 'test' split"):
        dm.test_dataloader()


def test_entity_metric_on_plain_tags_is_refused(tmp_path):
    (tmp_path / "t.txt").write_text("Dogs NOUN\nbark VERB\n\n")
    corpus = ColumnCorpus(str(tmp_path), {"train": "t.txt"}, tag_column=1, scheme="none")
    with pytest.raises(CorpusFormatError, match="use metric=acc"):
        _setup(corpus, tmp_path, metric="f1")


def test_unknown_metric_is_refused(corpus):
    with pytest.raises(ValueError, match="metric must be one of"):
        TaggingDataModule(corpus, metric="bleu")


def test_max_sentences_limits_every_split(corpus, tmp_path):
    dm = _setup(corpus, tmp_path, max_sentences=1)
    assert [len(dm.splits[s]) for s in ("train", "validation", "test")] == [1, 1, 1]
    assert isinstance(next(iter(dm.train_dataloader()))["words"], torch.Tensor)


DOCS = (
    "-DOCSTART- O\n\nPeter B-PER\nsaw O\n\nParis B-LOC\n\nthe O\nEU B-ORG\n\n"
    "-DOCSTART- O\n\nRome B-LOC\nfell O\n\n"
)


def test_document_context_joins_sentences_of_one_document(tmp_path):
    for name in FILES.values():
        (tmp_path / name).write_text(DOCS)
    corpus = ColumnCorpus(str(tmp_path), FILES, token_column=0, tag_column=1)
    dm = _setup(corpus, tmp_path, context_tokens=3)
    words = dm.vocabs.words
    joined = dm.splits["test"]
    # document 1 (2 + 1 + 2 tokens) packs into [2 + 1] and [2]; document 2 stays apart
    assert [ex["words"].tolist() for ex in joined] == [
        words.indices(["Peter", "saw", "Paris"]), words.indices(["the", "EU"]),
        words.indices(["Rome", "fell"]),
    ]
    assert [ex["starts"].tolist() for ex in joined] == [[1, 0, 1], [1, 0], [1, 0]]
    assert joined[0]["chars"].shape == (3, 5)  # padded to the widest word of the example
    single = _setup(corpus, tmp_path / "single")
    assert len(single.splits["test"]) == 4
    assert all(ex["starts"].tolist() == [1] + [0] * (len(ex["words"]) - 1) for ex in single.splits["test"])


def test_negative_context_is_refused(corpus):
    with pytest.raises(ValueError, match="context_tokens"):
        TaggingDataModule(corpus, context_tokens=-1)
