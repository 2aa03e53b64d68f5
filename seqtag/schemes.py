"""Entity tag schemes: checking tags, detecting IOB1 vs IOB2, and converting.

Training may use IOB2 or IOBES; scores are always computed on IOB2 so that
results stay comparable with ``conlleval`` and published tables.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

ENTITY_SCHEMES = ("iob1", "iob2", "iobes")
SCHEMES = (*ENTITY_SCHEMES, "none")
_PREFIXES = {"iob1": "BI", "iob2": "BI", "iobes": "BIES"}


class UnknownSchemeError(ValueError):
    """A scheme name that seqtag does not know."""


def check_scheme(scheme: str, allow_auto: bool = False) -> str:
    known = (*SCHEMES, "auto") if allow_auto else SCHEMES
    if scheme not in known:
        raise UnknownSchemeError(
            f"unknown tag scheme {scheme!r}; use one of {', '.join(known)}"
        )
    return scheme


def tag_checker(scheme: str) -> Callable[[str], str | None]:
    """Return a function that says what is wrong with a tag under ``scheme`` (None if fine)."""
    check_scheme(scheme, allow_auto=True)
    if scheme == "none":
        return lambda tag: None
    prefixes = "BIES" if scheme == "auto" else _PREFIXES[scheme]

    def check(tag: str) -> str | None:
        if tag == "O":
            return None
        if len(tag) > 2 and tag[1] == "-" and tag[0] in prefixes:
            return None
        allowed = ", ".join(f"{p}-TYPE" for p in prefixes)
        return f"tag {tag!r} is not in the {scheme.upper()} scheme (expected O or {allowed})"

    return check


def split_tag(tag: str) -> tuple[str, str]:
    """``'B-PER' -> ('B', 'PER')``, ``'O' -> ('O', '')``."""
    if tag == "O":
        return "O", ""
    return tag[0], tag[2:]


def is_valid_iob2(tags: Sequence[str]) -> bool:
    previous = "O"
    for tag in tags:
        prefix, kind = split_tag(tag)
        if prefix == "I" and (previous == "O" or split_tag(previous)[1] != kind):
            return False
        previous = tag
    return True


def detect_scheme(sentences: Iterable[Sequence[str]]) -> str:
    """Guess the entity scheme of tag sequences: ``iobes``, ``iob2`` or ``iob1``.

    IOB1 starts chunks with ``I-`` (``B-`` only between adjacent chunks of one
    type), so any ``I-X`` that does not continue an ``X`` chunk means IOB1.
    """
    saw_iob1 = False
    for tags in sentences:
        for tag in tags:
            if tag[:2] in ("E-", "S-"):
                return "iobes"
        if not saw_iob1 and not is_valid_iob2(tags):
            saw_iob1 = True
    return "iob1" if saw_iob1 else "iob2"


def iob1_to_iob2(tags: Sequence[str]) -> list[str]:
    out: list[str] = []
    previous = "O"
    for tag in tags:
        prefix, kind = split_tag(tag)
        if prefix == "I" and (previous == "O" or split_tag(previous)[1] != kind):
            out.append(f"B-{kind}")
        else:
            out.append(tag)
        previous = tag
    return out


def iob2_to_iobes(tags: Sequence[str]) -> list[str]:
    out: list[str] = []
    for i, tag in enumerate(tags):
        prefix, kind = split_tag(tag)
        following = tags[i + 1] if i + 1 < len(tags) else "O"
        continues = following == f"I-{kind}"
        if prefix == "B":
            out.append(tag if continues else f"S-{kind}")
        elif prefix == "I":
            out.append(tag if continues else f"E-{kind}")
        else:
            out.append(tag)
    return out


def iobes_to_iob2(tags: Sequence[str]) -> list[str]:
    out: list[str] = []
    for tag in tags:
        prefix, kind = split_tag(tag)
        if prefix == "S":
            out.append(f"B-{kind}")
        elif prefix == "E":
            out.append(f"I-{kind}")
        else:
            out.append(tag)
    return out


def convert(tags: Sequence[str], source: str, target: str) -> list[str]:
    """Convert one sentence's tags between entity schemes (through IOB2)."""
    check_scheme(source)
    check_scheme(target)
    if source == target or "none" in (source, target):
        if source != target:
            raise UnknownSchemeError(f"cannot convert tags from {source!r} to {target!r}")
        return list(tags)
    iob2 = {"iob1": iob1_to_iob2, "iob2": list, "iobes": iobes_to_iob2}[source](tags)
    if target == "iob2":
        return iob2
    if target == "iobes":
        return iob2_to_iobes(iob2)
    raise UnknownSchemeError(f"cannot convert tags to {target!r}: IOB1 is an input scheme only")
