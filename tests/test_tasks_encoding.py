"""One encoder per task: what the data module trains on is what the predictor feeds the model.

For each task, the examples the DataModule builds for a split equal what the prediction
path (task.read_inputs -> task.batchable -> task.encode, as seqtag.predictor.Predictor
calls them) makes of the same inputs: token lists for taggers, the raw texts for
document classifiers. Compared column by column with numpy.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from seqtag.data.corpus import ColumnCorpus, ConlluCorpus, LabelledTextCorpus
from seqtag.data.datamodule import DataModule
from seqtag.data.vectors import VectorsFile
from seqtag.errors import ConfigError
from seqtag.tasks import DocumentClassification, EntityTagging, Task, TokenTagging
from seqtag.vocab import Vocab, Vocabularies

FILES = {"train": "train.txt", "validation": "valid.txt", "test": "test.txt"}
NER = {
    "train": ("-DOCSTART- -X- O\n\nEU NNP B-ORG\nrejects VBZ O\nGerman JJ B-MISC\ncall NN O\n\n"
              "Peter NNP B-PER\nBlackburn NNP I-PER\n\n"
              "-DOCSTART- -X- O\n\nBRUSSELS NNP B-LOC\n1996-08-22 CD O\n\n"),
    "validation": ("-DOCSTART- -X- O\n\nCRICKET NNP O\n-NNP : O\nLEICESTERSHIRE NNP B-ORG\n\n"
                   "LONDON NNP B-LOC\n\n"),
    "test": ("-DOCSTART- -X- O\n\nSOCCER NN O\nJAPAN NNP B-LOC\nGET VB O\n\n"
             "Nadim NNP B-PER\nLadki NNP I-PER\n\n"),
}


def _check(dm: DataModule, task: Task, inputs: dict[str, list], docs: dict[str, list[int]] | None = None,
           ) -> int:
    """Compare every split's training examples with the prediction path's; the number compared."""
    compared = 0
    for split, examples in dm.splits.items():
        items = task.read_inputs(inputs[split], dm.vocabs)
        predicted, groups = task.batchable(dm.vocabs, items, docs[split] if docs else None)
        assert len(predicted) == len(examples), split
        for k, (trained, served) in enumerate(zip(examples, predicted, strict=True)):
            assert set(trained) - {task.target} == set(served), (split, k)
            for column in served:
                np.testing.assert_array_equal(trained[column], served[column],
                                              err_msg=f"{split}[{k}].{column}")
            compared += 1
        if not task.to_dict().get("context_tokens"):
            # one example per input, each task.encode of it
            assert groups == [[i] for i in range(len(items))]
            for (tokens, *_), trained in zip(items, examples, strict=True):
                for column, value in task.encode(dm.vocabs, tokens).items():
                    np.testing.assert_array_equal(trained[column], value, err_msg=f"{split}.{column}")
    return compared


def _raw(dm: DataModule, tmp_path: Path):
    """The splits as the data module read them (its source: corpus and split options), unprepared."""
    options = {k: v for k, v in dm.source().items() if k != "corpus"}
    return dm.corpus.splits(str(tmp_path / "cache"), **options)


@pytest.fixture
def ner(tmp_path: Path) -> ColumnCorpus:
    root = tmp_path / "ner"
    root.mkdir()
    for split, name in FILES.items():
        (root / name).write_text(NER[split])
    return ColumnCorpus(str(root), FILES, tag_column=2)


@pytest.mark.parametrize("task", [
    EntityTagging(),
    EntityTagging(train_scheme="iobes", lowercase=True, digits_to_zero=True, max_word_length=4),
    EntityTagging(context_tokens=6),
], ids=["plain", "iobes-lowercase-digits", "context"])
def test_entity_examples_are_what_the_predictor_encodes(ner, tmp_path, task):
    dm = DataModule(task, ner, cache_dir=str(tmp_path / "cache"))
    dm.setup()
    raw = _raw(dm, tmp_path)
    tokens = {split: [list(t) for t in raw[split]["tokens"]] for split in raw}
    docs = {split: list(raw[split]["doc"]) for split in raw}
    # 7 sentences; with context, documents' sentences packed into 6-token examples: 2 + 1 + 1
    assert _check(dm, task, tokens, docs) == (4 if task.context_tokens else 7)


def test_token_examples_are_what_the_predictor_encodes(tmp_path):
    def line(i, form, upos):
        return "\t".join([str(i), form, "_", upos, "_", "_", "0", "_", "_", "_"]) + "\n"

    text = (line(1, "Dogs", "NOUN") + line(2, "bark", "VERB") + "\n"
            + line(1, "The", "DET") + line(2, "2", "NUM") + line(3, "cats", "NOUN") + line(4, "sleep", "VERB")
            + "\n")
    (tmp_path / "t.conllu").write_text(text)
    (tmp_path / "d.conllu").write_text(line(1, "Cats", "NOUN") + line(2, "sleep", "VERB") + "\n")
    corpus = ConlluCorpus(str(tmp_path), {"train": "t.conllu", "validation": "d.conllu", "test": "d.conllu"})
    task = TokenTagging(lowercase=True, max_word_length=3)
    dm = DataModule(task, corpus, cache_dir=str(tmp_path / "cache"))
    dm.setup()
    raw = _raw(dm, tmp_path)
    assert _check(dm, task, {split: [list(t) for t in raw[split]["tokens"]] for split in raw}) == 4
    # lowercase keys: "Cats" in validation is the training word "cats"
    assert dm.splits["validation"][0]["words"][0] == dm.vocabs.words.index("cats")


REVIEWS = [
    ("A <b>great</b> film.<br /><br />Truly GREAT, 10/10!", "pos"),
    ("I didn't like it; awful acting, awful plot.", "neg"),
    ("Fine film , fine cast", "pos"),
    ("Bad.<br/>Really bad film", "neg"),
] * 3


def _reviews(root: Path, extra: tuple[tuple[str, str], ...] = ()) -> LabelledTextCorpus:
    root.mkdir(exist_ok=True)
    rows = "".join(f'"{text}",{label}\n' for text, label in REVIEWS + list(extra))
    (root / "train.csv").write_text("text,label\n" + rows)
    (root / "test.csv").write_text('text,label\n"A zorbly great film, not bad",pos\n"<i>Awful</i>",neg\n')
    return LabelledTextCorpus(str(root), {"train": "train.csv", "test": "test.csv"})


@pytest.mark.parametrize("task", [
    DocumentClassification(),
    DocumentClassification(lowercase=False, strip_html=False, max_length=5, char_features=True,
                           max_word_length=3),
], ids=["default", "cased-html-chars"])
def test_document_examples_are_what_the_predictor_encodes_from_text(tmp_path, task):
    dm = DataModule(task, _reviews(tmp_path / "imdb"), cache_dir=str(tmp_path / "cache"), val_fraction=0.25)
    dm.setup()
    raw = _raw(dm, tmp_path)
    texts = {split: list(raw[split]["text"]) for split in raw}
    assert _check(dm, task, texts) == len(REVIEWS) + 2


@pytest.mark.parametrize("min_freq", [1, 2])
def test_known_words_only_reads_text_in_prediction_as_in_training(tmp_path, min_freq):
    """With min_freq > 1 a known word below it would be kept in training and dropped in
    prediction: that combination is refused."""
    # The prediction path filters by the model's vocabulary, training by the vectors: the
    # same tokens must survive, or the model reads other documents than it was trained on.
    vectors = tmp_path / "vectors.txt"
    known = ("great", "film", "awful", "fine", "bad", "cast", ".", "odd")
    vectors.write_text("".join(f"{w} 0.5 0.5\n" for w in known))
    task = DocumentClassification(max_length=4, known_words_only=True)
    # "odd" has a vector and occurs once, in a training review
    once = (("An odd film , fine cast", "pos"),)
    dm = DataModule(task, _reviews(tmp_path / "imdb", once), cache_dir=str(tmp_path / "cache"),
                    val_fraction=0.25, vectors=VectorsFile(str(vectors)), min_freq=min_freq)
    if min_freq > 1:
        with pytest.raises(ConfigError, match="min_freq=1"):
            dm.setup()
        return
    dm.setup()
    raw = _raw(dm, tmp_path)
    assert once[0][0] in raw["train"]["text"]
    assert _check(dm, task, {split: list(raw[split]["text"]) for split in raw}) == len(REVIEWS) + 3


def test_character_vocabulary_covers_the_training_tokens(ner, tmp_path):
    """Character features read the tokens as written (task.encode -> vocabs.char_indices(token)),
    so every character of a training token needs an index, whatever the word keys are."""
    task = EntityTagging(lowercase=True, digits_to_zero=True)
    dm = DataModule(task, ner, cache_dir=str(tmp_path / "cache"))
    dm.setup()
    chars = dm.vocabs.chars
    missing = sorted({ch for tokens in _raw(dm, tmp_path)["train"]["tokens"] for t in tokens
                      for ch in t[: dm.vocabs.max_word_length] if ch not in chars})
    assert not missing, f"training characters read as <unk>: {missing}"


def test_a_document_is_cut_at_max_length_however_it_arrives():
    """Token lists given to the predictor are cut as training cuts texts (``max_length``)."""
    vocabs = Vocabularies(Vocab(["<pad>", "<unk>", "a", "b", "c", "d"], unk="<unk>"), Vocab(["neg", "pos"]))
    task = DocumentClassification(max_length=3)
    assert task.encode(vocabs, ["a", "b", "c", "d", "e"])["words"].tolist() == [2, 3, 4]
    assert task.encode(vocabs, [])["words"].tolist() == [1]  # an empty document reads as one <unk>
    (examples, _) = task.batchable(vocabs, task.read_inputs([["d", "c", "b", "a"]], vocabs), None)
    assert examples[0]["words"].tolist() == [5, 4, 3]
