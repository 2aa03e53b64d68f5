"""The CRF against brute-force enumeration of every tag sequence on tiny inputs."""

import itertools

import pytest
import torch

from seqtag.data.datamodule import Vocabularies
from seqtag.models.crf import LinearChainCRF, allowed_transitions
from seqtag.models.heads import CRFHead
from seqtag.vocab import Vocab

TAGS = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]


def _random_crf(k: int, seed: int, constraints=None) -> LinearChainCRF:
    torch.manual_seed(seed)
    crf = LinearChainCRF(k, constraints)
    with torch.no_grad():
        for p in crf.parameters():
            p.normal_()
    return crf


def _brute_force(crf: LinearChainCRF, emissions: torch.Tensor, length: int) -> tuple[float, list[int]]:
    """log Z and the best path of one sentence, by scoring all K**length sequences."""
    k = emissions.size(-1)
    start, transitions, end = crf._scores()
    scores, paths = [], []
    for path in itertools.product(range(k), repeat=length):
        s = start[path[0]] + emissions[0, path[0]] + end[path[-1]]
        for t in range(1, length):
            s = s + transitions[path[t - 1], path[t]] + emissions[t, path[t]]
        scores.append(s)
        paths.append(list(path))
    stacked = torch.stack(scores)
    return torch.logsumexp(stacked, 0).item(), paths[int(stacked.argmax())]


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("constrained", [False, True])
def test_partition_score_and_viterbi_match_brute_force(seed: int, constrained: bool):
    k = len(TAGS)
    crf = _random_crf(k, seed, allowed_transitions(TAGS, "iob2") if constrained else None)
    lengths = torch.tensor([4, 1, 3, 2])
    torch.manual_seed(100 + seed)
    emissions = torch.randn(4, 4, k)
    mask = torch.arange(4)[None, :] < lengths[:, None]
    log_z = crf.log_partition(emissions, mask)
    best = crf.decode(emissions, mask)
    tags = torch.randint(0, k, (4, 4)).masked_fill(~mask, 0)
    for b, length in enumerate(lengths.tolist()):
        expected_log_z, expected_path = _brute_force(crf, emissions[b], length)
        assert log_z[b].item() == pytest.approx(expected_log_z, abs=1e-4)
        assert best[b, :length].tolist() == expected_path
        assert (best[b, length:] == 0).all()
    # the likelihood of every sequence is at most 1, and the best path's is the largest
    nll = crf.nll(emissions, tags, mask)
    assert (nll >= -1e-4).all()
    assert (crf.nll(emissions, best, mask) <= nll + 1e-4).all()


def test_padding_content_is_ignored():
    crf = _random_crf(3, 0)
    emissions = torch.randn(2, 5, 3)
    mask = torch.tensor([[True] * 5, [True, True, False, False, False]])
    changed = emissions.clone()
    changed[1, 2:] = 99.0
    torch.testing.assert_close(crf.log_partition(emissions, mask), crf.log_partition(changed, mask))
    assert torch.equal(crf.decode(emissions, mask), crf.decode(changed, mask))


def test_iob2_constraints():
    start, between, end = allowed_transitions(TAGS, "iob2")
    index = {t: i for i, t in enumerate(TAGS)}
    assert not start[index["I-PER"]] and start[index["B-PER"]] and start[index["O"]]
    assert not between[index["O"], index["I-PER"]]
    assert not between[index["B-LOC"], index["I-PER"]]
    assert between[index["B-PER"], index["I-PER"]] and between[index["I-PER"], index["I-PER"]]
    assert between[index["I-PER"], index["B-PER"]] and between[index["I-PER"], index["O"]]
    assert end.all()


def test_iobes_constraints():
    tags = ["O", "B-PER", "I-PER", "E-PER", "S-PER"]
    start, between, end = allowed_transitions(tags, "iobes")
    index = {t: i for i, t in enumerate(tags)}
    assert start.tolist() == [True, True, False, False, True]
    assert end.tolist() == [True, False, False, True, True]
    assert between[index["B-PER"], index["E-PER"]] and not between[index["B-PER"], index["O"]]
    assert not between[index["E-PER"], index["I-PER"]] and between[index["E-PER"], index["S-PER"]]


def test_constrained_decoding_never_emits_an_invalid_iob2_sequence():
    crf = LinearChainCRF(len(TAGS), allowed_transitions(TAGS, "iob2"))
    emissions = torch.zeros(1, 3, len(TAGS))
    emissions[0, :, TAGS.index("I-PER")] = 5.0  # every token "wants" I-PER
    path = [TAGS[i] for i in crf.decode(emissions, torch.ones(1, 3, dtype=torch.bool))[0]]
    assert path == ["B-PER", "I-PER", "I-PER"]


def test_crf_head_learns_a_tiny_batch():
    torch.manual_seed(0)
    vocabs = Vocabularies(Vocab(["<pad>", "<unk>"], unk="<unk>"), Vocab(TAGS), "iob2", "entity")
    head = CRFHead(4, vocabs)
    features = torch.randn(2, 3, 4)
    tags = torch.tensor([[1, 2, 0], [3, 0, 0]])
    mask = torch.tensor([[True, True, True], [True, True, False]])
    optimizer = torch.optim.Adam(head.parameters(), lr=0.1)
    for _ in range(100):
        optimizer.zero_grad()
        loss = head.loss(features, tags, mask)
        loss.backward()
        optimizer.step()
    assert loss.item() < 0.05
    assert torch.equal(head.decode(features, mask)[mask], tags[mask])


def _path_score(crf: LinearChainCRF, emissions: torch.Tensor, path: list[int]) -> torch.Tensor:
    """The score of one sentence's tag sequence, summed term by term (no padding in sight)."""
    start, transitions, end = crf._scores()
    s = start[path[0]] + emissions[0, path[0]] + end[path[-1]]
    for t in range(1, len(path)):
        s = s + transitions[path[t - 1], path[t]] + emissions[t, path[t]]
    return s


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("constrained", [False, True])
def test_gold_score_and_nll_on_padded_batches_match_brute_force(seed: int, constrained: bool):
    k = len(TAGS)
    # in float64: random gold tags cross forbidden transitions (-10000), beyond float32's precision
    crf = _random_crf(k, seed, allowed_transitions(TAGS, "iob2") if constrained else None).double()
    # lengths 1 and max in one batch, the longest not first; random tags and large
    # emissions in the padding, so counting any padded step, a transition into
    # padding or the end score of the wrong position changes the result
    lengths = torch.tensor([3, 4, 1, 4, 2])
    batch, width = len(lengths), 5  # wider than the longest sentence: every row has padding
    generator = torch.Generator().manual_seed(200 + seed)
    mask = torch.arange(width)[None, :] < lengths[:, None]
    emissions = torch.where(
        mask.unsqueeze(2), torch.randn(batch, width, k, generator=generator, dtype=torch.float64),
        50.0 * torch.randn(batch, width, k, generator=generator, dtype=torch.float64),
    )
    tags = torch.randint(0, k, (batch, width), generator=generator)
    assert (tags[~mask] != 0).any()  # the padding holds real tag ids, not just 0

    score = crf.score(emissions, tags, mask)
    nll = crf.nll(emissions, tags, mask)
    for b, length in enumerate(lengths.tolist()):
        path = tags[b, :length].tolist()
        expected = _path_score(crf, emissions[b], path).item()
        assert score[b].item() == pytest.approx(expected, abs=1e-8), (b, length)
        log_z, _ = _brute_force(crf, emissions[b], length)
        assert nll[b].item() == pytest.approx(log_z - expected, abs=1e-8), (b, length)
        # the same sentence alone, unpadded, scores the same
        alone = crf.score(emissions[b : b + 1, :length], tags[b : b + 1, :length],
                          torch.ones(1, length, dtype=torch.bool))
        assert alone.item() == pytest.approx(expected, abs=1e-8)
    # the probabilities of all K**length sequences of a sentence add up to one
    length = 3
    row = emissions[:1, :length]
    paths = torch.tensor(list(itertools.product(range(k), repeat=length)))
    full = torch.ones(len(paths), length, dtype=torch.bool)
    total = torch.logsumexp(-crf.nll(row.expand(len(paths), -1, -1), paths, full), 0)
    assert total.item() == pytest.approx(0.0, abs=1e-4)


def test_log_partition_survives_tags_no_allowed_path_reaches():
    # IOB2, emissions 500 apart: the forward sum of I-LOC after a sure O underflows to 0 in
    # probability space; log Z must still match the exact logsumexp and its gradient be finite
    crf = LinearChainCRF(len(TAGS), allowed_transitions(TAGS, "iob2"))
    emissions = torch.zeros(1, 3, len(TAGS))
    emissions[0, :, 0] = 500.0
    emissions[0, 2, 4] = 400.0
    emissions.requires_grad_(True)
    mask = torch.ones(1, 3, dtype=torch.bool)
    log_z = crf.log_partition(emissions, mask)
    expected, _ = _brute_force(crf, emissions.detach()[0], 3)
    assert log_z.item() == pytest.approx(expected, abs=1e-3)
    log_z.sum().backward()
    assert torch.isfinite(emissions.grad).all()
    # the gradient is the tag marginals: all mass on O
    assert emissions.grad[0, :, 0].tolist() == pytest.approx([1.0, 1.0, 1.0], abs=1e-6)


def test_log_partition_under_bf16_autocast_stays_float32():
    crf = _random_crf(len(TAGS), 3, allowed_transitions(TAGS, "iob2"))
    emissions = torch.randn(2, 4, len(TAGS))
    mask = torch.ones(2, 4, dtype=torch.bool)
    exact = crf.log_partition(emissions, mask)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        under = crf.log_partition(emissions.bfloat16(), mask)
    assert under.dtype == torch.float32
    # only the emissions' own rounding to bf16 differs
    assert torch.allclose(under, crf.log_partition(emissions.bfloat16().float(), mask), atol=1e-5)
    assert torch.allclose(under, exact, atol=0.1)
