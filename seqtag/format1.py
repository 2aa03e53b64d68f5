"""Reading model format 1 (seqtag 0.1 before the task redesign): parts named by the
import paths they had then, the task a string among the vocabularies. These tables
are frozen: they describe old files, not today's code."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from seqtag.errors import ModelLoadError

CLASSES = {
    "seqtag.models.embeddings.WordEmbedding": "word_embedding",
    "seqtag.models.char_encoders.CharCNN": "char_cnn",
    "seqtag.models.char_encoders.CharLSTM": "char_lstm",
    "seqtag.models.encoders.RNNEncoder": "rnn",
    "seqtag.models.heads.SoftmaxHead": "softmax",
    "seqtag.models.heads.CRFHead": "crf",
    "seqtag.models.pooling.SequencePoolingHead": "pool",
    "seqtag.models.lm_objective.NextWordObjective": "next_word",
    "seqtag.models.tagger.SequenceTagger": "tagger",
    "seqtag.models.classifier.SequenceClassifier": "classifier",
    "seqtag.data.corpus.ColumnCorpus": "column",
    "seqtag.data.corpus.ConlluCorpus": "conllu",
    "seqtag.data.classification.LabelledTextCorpus": "labelled_text",
}
PARTS = ("embedding", "encoder", "head", "lm")
# what a model of each task needs to know that format 1 kept elsewhere
TASKS = {
    "entity": lambda v, r: {"type": "entity", "train_scheme": v["scheme"], **_tagging(v, r)},
    "token": lambda v, r: {"type": "token", **_tagging(v, r)},
    "document": lambda v, r: {
        "type": "document", **{k: r.get("text_options", {}).get(k) for k in
                               ("lowercase", "strip_html", "max_length", "known_words_only")},
        "pad_to_max_length": bool(_data(r).get("pad_to_max_length", False)),
        "positive": r["model_config"].get("positive"), "char_features": v.get("chars") is not None,
        "max_word_length": v["max_word_length"]},
}


def _tagging(vocabs: dict, record: dict) -> dict:
    return {"lowercase": vocabs["lowercase"], "digits_to_zero": vocabs["digits_to_zero"],
            "max_word_length": vocabs["max_word_length"],
            "context_tokens": int(record.get("context_tokens", 0))}


def _data(record: dict) -> dict:
    return dict((record.get("run_config") or {}).get("data") or {})


def _names(config: Any, path: Path) -> Any:
    if isinstance(config, dict):
        out = {k: _names(v, path) for k, v in config.items() if k not in ("_target_", "_partial_")}
        if "_target_" in config:
            if config["_target_"] not in CLASSES:
                raise ModelLoadError(f"{path}: model format 1 names {config['_target_']!r}, which this "
                                     "seqtag does not know")
            out = {"type": CLASSES[config["_target_"]], **out}
        return out
    return config


def upgrade(record: dict[str, Any], path: Path) -> dict[str, Any]:
    """A format-1 record in the current format."""
    old = record["model_config"]
    vocabs = dict(record["vocabs"])
    task = vocabs.pop("task")
    if task not in TASKS:
        raise ModelLoadError(f"{path}: model format 1 with the unknown task {task!r}")
    if old.get("_target_") not in CLASSES:
        raise ModelLoadError(f"{path}: model format 1 names the model {old.get('_target_')!r}, which this "
                             "seqtag does not know")
    model = {"type": CLASSES[old["_target_"]]}
    model.update({part: _names(old[part], path) for part in PARTS if old.get(part) is not None})
    data = _data(record)
    source = None
    if isinstance(data.get("corpus"), dict):
        source = {"corpus": _names(data["corpus"], path),
                  **{k: data[k] for k in ("val_fraction", "split_seed", "val_split") if k in data},
                  "max_examples": data.get("max_sentences", data.get("max_documents"))}
    return {**record, "format_version": 2, "model": model, "task": TASKS[task](vocabs, record),
            "vocabs": vocabs, "source": source}
