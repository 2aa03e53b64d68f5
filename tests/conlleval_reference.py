"""An independent re-statement of the chunk counting in the CoNLL ``conlleval`` script
(its startOfChunk/endOfChunk rules for B/I/O/E tags; sentence ends close chunks).

Used only as a test oracle for seqtag's seqeval-based scores, which are IOB2.
"""

from __future__ import annotations


def _split(tag: str) -> tuple[str, str]:
    if tag == "O":
        return "O", ""
    prefix, _, kind = tag.partition("-")
    return prefix, kind


def _end_of_chunk(prev: str, tag: str, prev_type: str, kind: str) -> bool:
    pairs = {("B", "B"), ("B", "O"), ("I", "B"), ("I", "O"), ("E", "E"), ("E", "I"), ("E", "O")}
    if (prev, tag) in pairs:
        return True
    return prev not in ("O", ".") and prev_type != kind


def _start_of_chunk(prev: str, tag: str, prev_type: str, kind: str) -> bool:
    pairs = {("B", "B"), ("I", "B"), ("O", "B"), ("O", "I"), ("E", "E"), ("E", "I"), ("O", "E")}
    if (prev, tag) in pairs:
        return True
    return tag not in ("O", ".") and prev_type != kind


def conlleval_counts(gold: list[list[str]], pred: list[list[str]]) -> tuple[int, int, int]:
    """(correct chunks, gold chunks, predicted chunks), counted as conlleval counts them."""
    correct_chunks = found_gold = found_pred = 0
    for gold_tags, pred_tags in zip(gold, pred, strict=True):
        in_correct = False
        last_g, last_g_type, last_p, last_p_type = "O", "", "O", ""
        for g_tag, p_tag in zip([*gold_tags, "O"], [*pred_tags, "O"], strict=True):
            g, g_type = _split(g_tag)
            p, p_type = _split(p_tag)
            end_g = _end_of_chunk(last_g, g, last_g_type, g_type)
            end_p = _end_of_chunk(last_p, p, last_p_type, p_type)
            if in_correct:
                if end_g and end_p and last_g_type == last_p_type:
                    in_correct = False
                    correct_chunks += 1
                elif end_g != end_p or g_type != p_type:
                    in_correct = False
            start_g = _start_of_chunk(last_g, g, last_g_type, g_type)
            start_p = _start_of_chunk(last_p, p, last_p_type, p_type)
            if start_g and start_p and g_type == p_type:
                in_correct = True
            found_gold += start_g
            found_pred += start_p
            last_g, last_g_type, last_p, last_p_type = g, g_type, p, p_type
    return correct_chunks, found_gold, found_pred


def conlleval_scores(gold: list[list[str]], pred: list[list[str]]) -> dict[str, float]:
    correct, n_gold, n_pred = conlleval_counts(gold, pred)
    precision = correct / n_pred if n_pred else 0.0
    recall = correct / n_gold if n_gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}
