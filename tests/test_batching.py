"""Length-bucketed batch sampler (seqtag.data.batching) and the padding collator (seqtag.batch)."""

from __future__ import annotations

import random
from itertools import pairwise

import numpy as np
import pytest
import torch

from seqtag.batch import Collator, distinct_rows, pad, pad_chars
from seqtag.data.batching import BucketBatchSampler, batch_size, length_batches, num_tokens


def random_lengths(n, seed=0):
    rng = random.Random(seed)
    return [rng.randint(1, 60) for _ in range(n)]


def spread(batches, lengths):
    """Mean over batches of (longest - shortest) sentence length."""
    return float(np.mean([max(lengths[i] for i in b) - min(lengths[i] for i in b) for b in batches]))


def padding_share(batches, lengths):
    padded = sum(len(b) * max(lengths[i] for i in b) for b in batches)
    return 1 - sum(lengths) / padded


# --- BucketBatchSampler -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "size", "pool"),
    [(1037, 16, 5), (160, 16, 5), (161, 16, 5), (7, 16, 50), (1, 1, 1), (50, 3, 1), (0, 4, 2)],
)
@pytest.mark.parametrize("shuffle", [True, False])
def test_every_index_exactly_once_and_len_matches(n, size, pool, shuffle):
    lengths = random_lengths(n)
    sampler = BucketBatchSampler(lengths, batch_size=size, shuffle=shuffle, seed=3, pool_batches=pool)
    for epoch in range(3):
        sampler.set_epoch(epoch)
        batches = list(sampler)
        assert len(batches) == len(sampler)
        flat = [i for b in batches for i in b]
        assert sorted(flat) == list(range(n))
        assert all(1 <= len(b) <= size for b in batches)
        assert all(isinstance(i, int) for i in flat)


def test_len_by_hand():
    # 100 sentences, batches of 8, pools of 3 batches = 24 sentences:
    # 4 full pools give 12 batches, the last 4 sentences one more
    sampler = BucketBatchSampler([5] * 100, batch_size=8, pool_batches=3)
    assert len(sampler) == 13
    # without shuffling: ceil(100 / 8)
    assert len(BucketBatchSampler([5] * 100, batch_size=8, shuffle=False)) == 13
    # 20 sentences, pools of 2 batches of 3: 3 full pools give 6 batches, 2 left over one more
    assert len(BucketBatchSampler([5] * 20, batch_size=3, pool_batches=2)) == 7
    assert len(BucketBatchSampler([5] * 3, batch_size=4)) == 1
    assert len(BucketBatchSampler([], batch_size=4)) == 0


def test_batches_are_length_homogeneous_compared_with_random_batches():
    lengths = random_lengths(2000, seed=1)
    size = 32
    bucketed = list(BucketBatchSampler(lengths, batch_size=size, seed=0, pool_batches=10))
    order = np.random.default_rng(0).permutation(len(lengths)).tolist()
    random_batches = [order[i : i + size] for i in range(0, len(order), size)]
    assert spread(bucketed, lengths) < 0.2 * spread(random_batches, lengths)
    assert padding_share(bucketed, lengths) < 0.5 * padding_share(random_batches, lengths)


def test_each_pool_is_sorted_into_batches():
    # with one pool that holds everything, consecutive batches (in sorted order) do not overlap
    lengths = random_lengths(200, seed=2)
    batches = list(BucketBatchSampler(lengths, batch_size=10, seed=5, pool_batches=100))
    ranges = sorted((min(lengths[i] for i in b), max(lengths[i] for i in b)) for b in batches)
    for (_, high), (low, _) in pairwise(ranges):
        assert high <= low


def test_same_seed_and_epoch_same_order_other_epoch_or_seed_differs():
    lengths = random_lengths(500, seed=4)

    def epoch_batches(seed, epoch):
        sampler = BucketBatchSampler(lengths, batch_size=8, seed=seed, pool_batches=4)
        sampler.set_epoch(epoch)
        return list(sampler)

    assert epoch_batches(0, 0) == epoch_batches(0, 0)
    assert epoch_batches(7, 3) == epoch_batches(7, 3)
    assert epoch_batches(0, 1) != epoch_batches(0, 0)
    assert epoch_batches(1, 0) != epoch_batches(0, 0)
    # iterating twice in one epoch repeats the epoch
    sampler = BucketBatchSampler(lengths, batch_size=8, seed=0, pool_batches=4)
    assert list(sampler) == list(sampler)
    # the batch order is shuffled: not sorted by length
    firsts = [lengths[b[0]] for b in epoch_batches(0, 0)]
    assert firsts != sorted(firsts)


def test_eval_order_is_sorted_and_ignores_seed_and_epoch():
    lengths = random_lengths(103, seed=6)
    sampler = BucketBatchSampler(lengths, batch_size=10, shuffle=False, seed=1)
    batches = list(sampler)
    flat = [i for b in batches for i in b]
    # longest first, ties kept in index order
    assert flat == sorted(range(103), key=lambda i: (-lengths[i], i))
    assert all(len(b) <= 10 for b in batches) and len(batches) == len(sampler)
    sampler.set_epoch(5)
    assert list(sampler) == batches
    assert list(BucketBatchSampler(lengths, batch_size=10, shuffle=False, seed=2)) == batches


def test_length_batches_end_where_padding_would_grow():
    lengths = [124, 33, 30, 30, 29, 5, 5, 5, 5, 5, 1]
    batches = [b.tolist() for b in length_batches(lengths, batch_size=4)]
    # the 124-token sentence alone (33 is far shorter); 33..29 within 20 %; 5s in 4s
    assert batches == [[0], [1, 2, 3, 4], [5, 6, 7, 8], [9], [10]]
    assert [b.tolist() for b in length_batches(lengths, 100, slack=1000)] == [list(range(11))]
    for size in (1, 3, 256):
        batches = length_batches(lengths, size)
        assert sorted(i for b in batches for i in b) == list(range(11))
        assert all(0 < len(b) <= size for b in batches)
        assert all(lengths[b[0]] <= 1.2 * lengths[b[-1]] for b in batches)


def test_batch_size_must_be_positive():
    with pytest.raises(ValueError, match="batch_size"):
        BucketBatchSampler([1, 2], batch_size=0)


def test_replicas_share_batches_evenly(monkeypatch):
    lengths = random_lengths(203, seed=8)
    world = 2
    per_rank = []
    for rank in range(world):
        sampler = BucketBatchSampler(lengths, batch_size=10, seed=0, pool_batches=4)
        monkeypatch.setattr(sampler, "_replicas", lambda rank=rank: (rank, world))
        batches = list(sampler)
        assert len(batches) == len(sampler)
        per_rank.append(batches)
    # 203 sentences in pools of 40 -> 5 * 4 + 1 = 21 batches: 10 per rank, one left out
    assert [len(b) for b in per_rank] == [10, 10]
    flat = [i for batches in per_rank for b in batches for i in b]
    assert len(flat) == len(set(flat))


# --- pad and Collator --------------------------------------------------------------------


def test_pad():
    out = pad([np.array([1, 2, 3]), np.array([4]), np.array([], dtype=np.int64)], value=-1)
    assert out.dtype == torch.int64
    assert out.tolist() == [[1, 2, 3], [4, -1, -1], [-1, -1, -1]]


def test_collator_pads_and_masks():
    examples = [
        {"words": np.array([5, 6, 7]), "tags": np.array([1, 2, 3]), "case": np.array([3, 4, 3])},
        {"words": np.array([8]), "tags": np.array([4]), "case": np.array([5])},
        {"words": np.array([9, 10]), "tags": np.array([2, 2]), "case": np.array([1, 2])},
    ]
    batch = Collator(("words", "tags", "case"))(examples)
    assert set(batch) == {"words", "tags", "case", "lengths", "mask"}
    assert batch["words"].tolist() == [[5, 6, 7], [8, 0, 0], [9, 10, 0]]
    assert batch["tags"].tolist() == [[1, 2, 3], [4, 0, 0], [2, 2, 0]]
    assert batch["case"].tolist() == [[3, 4, 3], [5, 0, 0], [1, 2, 0]]
    assert batch["lengths"].tolist() == [3, 1, 2]
    assert batch["lengths"].dtype == torch.int64
    assert batch["mask"].dtype == torch.bool
    assert batch["mask"].tolist() == [[True, True, True], [True, False, False], [True, True, False]]
    # no word has index 0 here, so the mask is False exactly on the padding
    assert torch.equal(batch["mask"], batch["words"] != 0)
    assert batch["words"].dtype == torch.int64
    assert batch_size(batch) == 3
    assert num_tokens(batch) == 6
    assert int(batch["mask"].sum()) == 6


def test_collator_default_columns_and_lists():
    # datasets may hand over plain lists
    batch = Collator()([{"words": [2, 3], "tags": [1, 1]}, {"words": [4, 5], "tags": [0, 1]}])
    assert set(batch) == {"words", "tags", "lengths", "mask"}
    assert batch["words"].shape == (2, 2)
    assert bool(batch["mask"].all())


def test_pad_chars_pads_each_word_to_the_longest():
    out = pad_chars([[3, 4, 5], [6], []])
    assert out.dtype == np.int64
    assert out.tolist() == [[3, 4, 5], [6, 0, 0], [0, 0, 0]]
    # words without characters (no character vocabulary) still give one column
    assert pad_chars([[], []]).shape == (2, 1)


def test_collator_chars_and_scalar_labels():
    examples = [
        {"words": np.array([5, 6]), "chars": pad_chars([[1, 2, 3], [4]]), "label": np.int64(1)},
        {"words": np.array([7]), "chars": pad_chars([[5, 6]]), "label": np.int64(0)},
    ]
    batch = Collator(("words", "chars", "label"))(examples)
    table, index = batch["chars_table"], batch["chars"]
    assert index.shape == (2, 2) and table.shape == (4, 3)  # 3 distinct words and the padding row
    assert table[index].tolist() == [[[1, 2, 3], [4, 0, 0]], [[5, 6, 0], [0, 0, 0]]]
    assert batch["label"].tolist() == [1, 0] and batch["label"].shape == (2,)
    assert batch["lengths"].tolist() == [2, 1]


def test_distinct_rows_encode_each_word_once_whatever_its_padding():
    # the same word padded to other widths in other examples, and twice in one
    first = pad_chars([[7, 8], [9], [7, 8]])
    second = pad_chars([[9], [7, 8, 300], [7, 8]])
    third = pad_chars([[]])  # a token without characters reads as padding
    table, index = distinct_rows([first, second, third])
    assert table[0].tolist() == [0, 0, 0]
    assert len(table) == 4  # padding, [7 8], [9], [7 8 300]
    assert index.tolist() == [[1, 2, 1], [2, 3, 1], [0, 0, 0]]
    assert table[index[1, 1]].tolist() == [7, 8, 300]
    # every token's row holds its own characters
    for b, array in enumerate([first, second, third]):
        for t, row in enumerate(array):
            assert table[index[b, t], : len(row)].tolist() == row.tolist()


def test_collator_width_pads_every_batch_to_a_fixed_length():
    examples = [{"words": np.array([5, 6]), "case": np.array([1, 2]), "label": np.int64(1)}]
    batch = Collator(("words", "case", "label"), width=5)(examples)
    assert batch["words"].tolist() == [[5, 6, 0, 0, 0]] and batch["case"].shape == (1, 5)
    assert batch["mask"].tolist() == [[True, True, False, False, False]]
    assert batch["lengths"].tolist() == [2] and batch["label"].tolist() == [1]
    # longer examples are not cut
    assert Collator(("words",), width=1)(examples)["words"].shape == (1, 2)


def test_lightning_sets_the_epoch_of_the_bucket_sampler():
    # Lightning's own helper, as its fit loop calls it at every epoch start
    from lightning.fabric.utilities.data import _set_sampler_epoch
    from torch.utils.data import DataLoader

    sampler = BucketBatchSampler([3, 1, 2, 5, 4] * 10, batch_size=4, shuffle=True, seed=0)
    loader = DataLoader(list(range(50)), batch_sampler=sampler)
    first = list(loader.batch_sampler)
    _set_sampler_epoch(loader, 3)
    assert sampler.epoch == 3
    assert list(loader.batch_sampler) != first
