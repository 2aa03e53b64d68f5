import pytest

from seqtag.data.phrases import sentence_rows, split_by_sentence

# Two small treebanks: each sentence followed by some of its phrases, as SST-2 lists them.
ROWS = [
    "a good film",
    "good film",
    "good",
    "a bad , slow movie",
    "bad , slow movie",
    "slow movie",
    "slow",
    "bad",
    "good",          # a duplicate row, as SST-2 has
    "good acting",   # a sentence of its own sharing the word "good"
    "the end",
    "end",
]


def test_sentence_rows_are_the_rows_inside_no_other():
    roots = [ROWS[i] for i in sentence_rows(ROWS)]
    assert roots == ["a good film", "a bad , slow movie", "good acting", "the end"]


@pytest.mark.parametrize("seed", range(6))
def test_no_phrase_of_a_validation_sentence_is_trained_on(seed: int):
    train, held = split_by_sentence(ROWS, 0.5, seed)
    assert len(held) == 2 and set(held) <= set(sentence_rows(ROWS))
    held_text = [ROWS[i] for i in held]
    for i in train:
        assert not any(f" {ROWS[i]} " in f" {sentence} " for sentence in held_text)
    # every row that is no part of a held-out sentence stays in training
    kept = [i for i, row in enumerate(ROWS) if not any(f" {row} " in f" {s} " for s in held_text)]
    assert train == kept


def test_the_split_depends_on_the_seed_only():
    assert split_by_sentence(ROWS, 0.5, 3) == split_by_sentence(list(ROWS), 0.5, 3)
    assert len({tuple(split_by_sentence(ROWS, 0.5, s)[1]) for s in range(10)}) > 1


def test_too_few_sentences_is_an_error():
    with pytest.raises(ValueError, match="4 sentences among 12 rows"):
        split_by_sentence(ROWS, 0.05, 0)
