"""``seqtag-vectors``: word2vec vectors trained on a corpus' own training split.

Only the training split's words are read (never their labels, never the
validation or test text), tokenised exactly as ``seqtag-train`` tokenises them,
so every word the model sees has a vector. The result is a word2vec text file
that ``model/embedding=glove_file model.embedding.vectors.path=...`` reads.
Training is gensim's (a maintained word2vec), seeded, on ``workers`` threads.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import hydra
from hydra.errors import InstantiationException
from omegaconf import DictConfig, OmegaConf

from seqtag.configs import CONFIG_PATH
from seqtag.errors import DataError, SeqtagError

log = logging.getLogger(__name__)


def train_vectors(cfg: DictConfig) -> Path:
    """Train word2vec as ``cfg.word2vec`` says on ``cfg.data``'s training split; write ``cfg.output``."""
    try:
        from gensim.models import Word2Vec
    except ImportError:
        raise DataError(
            "seqtag-vectors needs gensim: pip install gensim (or the project's [vectors] extra)") from None
    data = cfg.data.copy()
    # every word is kept, and whole documents: the vectors are what is being made
    for key, value in {"known_words_only": False, "max_length": None}.items():
        if key in data.task:
            data.task[key] = value
    sentences = hydra.utils.instantiate(data).training_tokens()
    tokens = sum(len(s) for s in sentences)
    log.info("training word2vec on %d documents, %d tokens", len(sentences), tokens)
    options = OmegaConf.to_container(cfg.word2vec, resolve=True)
    model = Word2Vec(sentences=sentences, seed=cfg.seed, **options)
    output = Path(cfg.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    model.wv.save_word2vec_format(str(output), binary=False)
    log.info("wrote %d x %d vectors to %s", len(model.wv), model.wv.vector_size, output)
    return output


@hydra.main(version_base="1.3", config_path=CONFIG_PATH, config_name="vectors")
def main(cfg: DictConfig) -> None:
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    try:
        train_vectors(cfg)
    except (SeqtagError, InstantiationException) as err:
        log.error("%s", err)
        raise SystemExit(f"seqtag-vectors: {err}") from None


if __name__ == "__main__":
    main()
