"""Warm start: begin training from the weights of another saved model (transfer learning).

The two models may have different vocabularies and labels, e.g. an IMDB sentiment
model starting an SST-2 one. Embedding rows are matched by the word (or character)
they stand for; other weights are copied where name and shape agree. Output layers are
copied only when both models predict the same labels, since a head trained for other
labels would be right in shape and wrong in meaning.
"""

from __future__ import annotations

import logging
from pathlib import Path

import torch

from seqtag import saved_model
from seqtag.errors import ModelLoadError
from seqtag.models.base import SeqtagModule

log = logging.getLogger(__name__)

# parameters whose rows are indexed by a vocabulary: parameter name -> vocabulary key
_VOCAB_ROWS = {
    "embedding.embedding.weight": "words",
    "embedding.extra.weight": "words",
    "embedding.chars.embedding.weight": "chars",
}


def warm_start(model: SeqtagModule, source: str | Path) -> dict[str, int]:
    """Copy what fits of the saved model at ``source`` into ``model``, in place.

    Returns counts: ``tensors`` copied whole, ``rows`` of embedding tables matched by
    word or character, ``skipped`` parameters left at their initial values.
    """
    record = saved_model.read(source)
    state = record["state_dict"]
    old_vocabs = record["vocabs"]
    new_vocabs = model.vocabs.to_dict()
    same_labels = list(old_vocabs["tags"]) == list(new_vocabs["tags"])
    counts = {"tensors": 0, "rows": 0, "skipped": 0}
    skipped: list[str] = []
    with torch.no_grad():
        for name, param in model.named_parameters():
            value = state.get(name)
            vocab_key = _VOCAB_ROWS.get(name)
            if value is None or value.dim() != param.dim() or value.shape[1:] != param.shape[1:]:
                skipped.append(name)
            elif vocab_key is not None and old_vocabs.get(vocab_key) and new_vocabs.get(vocab_key):
                counts["rows"] += _copy_rows(param, value, old_vocabs[vocab_key], new_vocabs[vocab_key])
            elif name.startswith("head.") and not same_labels:
                skipped.append(name)
            elif value.shape == param.shape:
                param.copy_(value)
                counts["tensors"] += 1
            else:
                skipped.append(name)
    counts["skipped"] = len(skipped)
    if counts["tensors"] == 0 and counts["rows"] == 0:
        raise ModelLoadError(
            f"{record['path']}: no weight of this model fits the one being trained "
            "(different parts or sizes); check init_from")
    log.info("warm start from %s: %d tensors copied, %d embedding rows matched by word or "
             "character, left as initialised: %s", record["path"], counts["tensors"], counts["rows"],
             ", ".join(skipped) or "nothing")
    return counts


def _copy_rows(param: torch.Tensor, value: torch.Tensor, old: list[str], new: list[str]) -> int:
    old_index = {item: row for row, item in enumerate(old)}
    pairs = [(row, old_index[item]) for row, item in enumerate(new) if item in old_index]
    if not pairs:
        return 0
    target, source = (torch.tensor(side) for side in zip(*pairs, strict=True))
    param[target] = value[source].to(param.dtype)
    return len(pairs)
