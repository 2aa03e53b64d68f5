"""Tag schemes: detection, IOB1 -> IOB2, IOB2 <-> IOBES, and scheme-name errors."""

from __future__ import annotations

import random

import pytest

from seqtag.schemes import (
    UnknownSchemeError,
    check_scheme,
    convert,
    detect_scheme,
    iob1_to_iob2,
    iob2_to_iobes,
    iobes_to_iob2,
    is_valid_iob2,
    tag_checker,
)

TYPES = ("PER", "LOC", "ORG", "MISC")


def random_iob2(rng, length):
    """A valid IOB2 sequence: I-X only directly after B-X or I-X."""
    tags = []
    for _ in range(length):
        previous = tags[-1] if tags else "O"
        choices = ["O", "B"] + (["I", "I"] if previous != "O" else [])
        prefix = rng.choice(choices)
        if prefix == "O":
            tags.append("O")
        elif prefix == "B":
            tags.append(f"B-{rng.choice(TYPES)}")
        else:
            tags.append(f"I-{previous[2:]}")
    return tags


def chunks(tags):
    """(type, start, end) spans of an IOB2 sequence, written independently of the module."""
    spans = []
    for i, tag in enumerate(tags):
        if tag.startswith("B-"):
            spans.append([tag[2:], i, i + 1])
        elif tag.startswith("I-"):
            assert spans and spans[-1][0] == tag[2:] and spans[-1][2] == i, tags
            spans[-1][2] = i + 1
    return [tuple(s) for s in spans]


def to_iob1(tags):
    """IOB2 -> IOB1 by the IOB1 rule: B- only for a chunk that directly follows one of its type."""
    out = []
    for i, tag in enumerate(tags):
        if tag.startswith("B-"):
            previous = tags[i - 1] if i else "O"
            out.append(tag if previous != "O" and previous[2:] == tag[2:] else "I-" + tag[2:])
        else:
            out.append(tag)
    return out


SEEDED = [random_iob2(random.Random(1234 + n), random.Random(n).randint(0, 25)) for n in range(300)]


# --- detection ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sentences", "expected"),
    [
        ([["B-PER", "I-PER", "O", "B-LOC"], ["O", "B-ORG", "B-ORG"]], "iob2"),
        ([["I-PER", "I-PER", "O", "I-LOC"]], "iob1"),
        # IOB1 B- between adjacent same-type chunks; the chunk start itself is I-
        ([["I-PER", "B-PER", "O"]], "iob1"),
        # only the second sentence shows it: a sentence may not continue the previous one
        ([["B-PER", "I-PER"], ["I-PER", "O"]], "iob1"),
        # type change inside a run of I- tags
        ([["B-LOC", "I-LOC", "I-PER"]], "iob1"),
        ([["B-PER", "I-PER", "E-PER", "O", "S-LOC"]], "iobes"),
        ([["O", "S-LOC"]], "iobes"),
        ([["B-PER", "E-PER"]], "iobes"),
        # E-/S- win even when another sentence looks like IOB1
        ([["I-PER"], ["S-LOC"]], "iobes"),
        ([["O", "O"], []], "iob2"),
        ([], "iob2"),
    ],
)
def test_detect_scheme(sentences, expected):
    assert detect_scheme(sentences) == expected


def test_detect_scheme_accepts_a_generator():
    assert detect_scheme(s for s in [["O"], ["I-MISC"]]) == "iob1"


def test_detect_scheme_on_random_sequences():
    with_entities = [s for s in SEEDED if any(t != "O" for t in s)]
    assert len(with_entities) > 200
    assert detect_scheme(SEEDED) == "iob2"
    assert detect_scheme([iob2_to_iobes(s) for s in with_entities]) == "iobes"
    # every IOB1 sentence with an entity starts at least one chunk with I-
    for tags in with_entities:
        assert detect_scheme([to_iob1(tags)]) == "iob1"


def test_is_valid_iob2():
    assert is_valid_iob2(["B-PER", "I-PER", "O"])
    assert is_valid_iob2([])
    assert not is_valid_iob2(["I-PER"])
    assert not is_valid_iob2(["B-PER", "O", "I-PER"])
    assert not is_valid_iob2(["B-PER", "I-LOC"])


# --- IOB1 -> IOB2 -------------------------------------------------------------------------------


def test_iob1_to_iob2_hand_checked():
    # chunk 1: Peter Blackburn (I I), chunk 2 directly after, same type (B), then O,
    # then a LOC chunk and a PER chunk that touch without a B- (type change).
    iob1 = ["I-PER", "I-PER", "B-PER", "O", "I-LOC", "I-PER", "I-PER", "O", "I-MISC"]
    iob2 = ["B-PER", "I-PER", "B-PER", "O", "B-LOC", "B-PER", "I-PER", "O", "B-MISC"]
    assert iob1_to_iob2(iob1) == iob2
    assert convert(iob1, "iob1", "iob2") == iob2


def test_iob1_to_iob2_conll2003_sentence():
    # CoNLL-2003 eng.train: "EU rejects German call to boycott British lamb ."
    iob1 = ["I-ORG", "O", "I-MISC", "O", "O", "O", "I-MISC", "O", "O"]
    assert iob1_to_iob2(iob1) == ["B-ORG", "O", "B-MISC", "O", "O", "O", "B-MISC", "O", "O"]


def test_iob1_to_iob2_leaves_iob2_unchanged():
    for tags in SEEDED:
        assert iob1_to_iob2(tags) == tags


def test_iob1_round_trip_on_random_sequences():
    for tags in SEEDED:
        assert iob1_to_iob2(to_iob1(tags)) == tags


# --- IOB2 <-> IOBES -----------------------------------------------------------------------------


def test_iob2_to_iobes_hand_checked():
    iob2 = ["B-PER", "I-PER", "I-PER", "O", "B-LOC", "B-LOC", "I-LOC", "O", "B-MISC", "B-ORG"]
    iobes = ["B-PER", "I-PER", "E-PER", "O", "S-LOC", "B-LOC", "E-LOC", "O", "S-MISC", "S-ORG"]
    assert iob2_to_iobes(iob2) == iobes
    assert iobes_to_iob2(iobes) == iob2
    assert convert(iob2, "iob2", "iobes") == iobes
    assert convert(iobes, "iobes", "iob2") == iob2


def test_iob2_to_iobes_single_token_chunks():
    # B-PER I-PER then B-LOC: the PER chunk ends with E-, the one-token LOC chunk is S-
    assert iob2_to_iobes(["B-PER", "I-PER", "B-LOC"]) == ["B-PER", "E-PER", "S-LOC"]
    assert iob2_to_iobes(["B-PER"]) == ["S-PER"]
    assert iob2_to_iobes([]) == []


def test_iob1_to_iobes_goes_through_iob2():
    assert convert(["I-PER", "I-PER", "B-PER", "O", "I-LOC"], "iob1", "iobes") == [
        "B-PER", "E-PER", "S-PER", "O", "S-LOC"
    ]


def test_iobes_round_trip_property():
    lengths = set()
    for tags in SEEDED:
        iobes = iob2_to_iobes(tags)
        lengths.add(len(tags))
        assert len(iobes) == len(tags)
        assert iobes_to_iob2(iobes) == tags
        # same chunks: B/S start one, E/S end one
        starts = [i for i, t in enumerate(iobes) if t[:2] in ("B-", "S-")]
        ends = [i + 1 for i, t in enumerate(iobes) if t[:2] in ("E-", "S-")]
        spans = chunks(tags)
        assert starts == [s for _, s, _ in spans]
        assert ends == [e for _, _, e in spans]
        # well formed: B-/I- is followed by I-/E- of its type, and nothing else is
        for i, tag in enumerate(iobes):
            following = iobes[i + 1] if i + 1 < len(iobes) else "O"
            if tag[:2] in ("B-", "I-"):
                assert following in (f"I-{tag[2:]}", f"E-{tag[2:]}"), iobes
            elif following[:2] in ("I-", "E-"):
                raise AssertionError(f"{following} at {i + 1} does not continue a chunk: {iobes}")
    assert min(lengths) == 0 and max(lengths) >= 20


def test_convert_same_scheme_copies():
    tags = ["B-PER", "O"]
    for scheme in ("iob1", "iob2", "iobes", "none"):
        out = convert(tags, scheme, scheme)
        assert out == tags
        assert out is not tags


# --- scheme names -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["bio", "IOB2", "iob", "", "bioes"])
def test_unknown_scheme_names(name):
    with pytest.raises(UnknownSchemeError) as info:
        check_scheme(name)
    message = str(info.value)
    assert repr(name) in message
    for known in ("iob1", "iob2", "iobes", "none"):
        assert known in message
    with pytest.raises(UnknownSchemeError):
        tag_checker(name)
    with pytest.raises(UnknownSchemeError):
        convert(["O"], name, "iob2")
    with pytest.raises(UnknownSchemeError):
        convert(["O"], "iob2", name)


def test_unknown_scheme_error_is_a_value_error():
    assert issubclass(UnknownSchemeError, ValueError)


def test_auto_only_where_allowed():
    assert check_scheme("auto", allow_auto=True) == "auto"
    with pytest.raises(UnknownSchemeError, match="use one of"):
        check_scheme("auto")
    with pytest.raises(UnknownSchemeError):
        convert(["O"], "auto", "iob2")


def test_impossible_conversions():
    with pytest.raises(UnknownSchemeError, match="IOB1"):
        convert(["B-PER"], "iob2", "iob1")
    with pytest.raises(UnknownSchemeError):
        convert(["NN"], "none", "iob2")
    with pytest.raises(UnknownSchemeError):
        convert(["B-PER"], "iobes", "none")


def test_tag_checker():
    iob2 = tag_checker("iob2")
    assert iob2("O") is None
    assert iob2("B-PER") is None
    assert iob2("I-MISC") is None
    for bad in ("S-PER", "E-PER", "B_PER", "X-PER", "PER", "B-", "o", ""):
        problem = iob2(bad)
        assert problem is not None and repr(bad) in problem, bad
    iobes = tag_checker("iobes")
    assert all(iobes(t) is None for t in ("O", "B-A", "I-A", "E-A", "S-A"))
    assert iobes("X-A") is not None
    assert tag_checker("auto")("S-A") is None
    assert tag_checker("none")("anything at all") is None
