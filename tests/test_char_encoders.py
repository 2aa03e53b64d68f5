import numpy as np
import pytest
import torch

from seqtag.batch import Collator, pad_chars
from seqtag.models.base import build
from seqtag.models.char_encoders import CharCNN, CharLSTM
from seqtag.registry import to_names
from seqtag.vocab import Vocab, Vocabularies

# two sentences: "ab c" and "abc" + a padding word
CHARS = torch.tensor([
    [[1, 2, 0], [3, 0, 0]],
    [[1, 2, 3], [0, 0, 0]],
])


@pytest.mark.parametrize("encoder", [CharCNN(5, dim=4, filters=6, dropout=0.0),
                                     CharLSTM(5, dim=4, hidden_size=3, dropout=0.0)])
def test_one_vector_per_word_and_zero_for_padding_words(encoder):
    torch.manual_seed(0)
    out = encoder.eval()(CHARS)
    assert out.shape == (2, 2, encoder.output_dim)
    assert torch.equal(out[1, 1], torch.zeros(encoder.output_dim))
    assert out[0, 0].abs().sum() > 0


@pytest.mark.parametrize("encoder", [CharCNN(5, dim=4, filters=6, dropout=0.0),
                                     CharLSTM(5, dim=4, hidden_size=3, dropout=0.0)])
def test_padding_characters_do_not_change_a_word(encoder):
    encoder.eval()
    narrow = encoder(torch.tensor([[[1, 2]]]))
    wide = encoder(torch.tensor([[[1, 2, 0, 0, 0]]]))
    torch.testing.assert_close(narrow, wide)


@pytest.mark.parametrize("encoder", [CharCNN(5, dim=4, filters=6, dropout=0.0),
                                     CharLSTM(5, dim=4, hidden_size=3, dropout=0.0)])
def test_a_batch_of_distinct_words_gives_each_token_its_words_vector(encoder):
    # the collator's form: each token's row in a table of the batch's distinct words
    examples = [{"words": np.array([4, 5, 4]), "chars": pad_chars([[1, 2], [3], [1, 2]])},
                {"words": np.array([6, 4]), "chars": pad_chars([[1, 2, 3, 4], [1, 2]])}]
    batch = Collator(("words", "chars"))(examples)
    assert len(batch["chars_table"]) == 4  # padding, "ab", "c", "abcd"
    encoder.eval()
    per_token = encoder(batch["chars"], batch["chars_table"])
    full = torch.tensor([[[1, 2, 0, 0], [3, 0, 0, 0], [1, 2, 0, 0]],
                         [[1, 2, 3, 4], [1, 2, 0, 0], [0, 0, 0, 0]]])
    torch.testing.assert_close(per_token, encoder(full))
    assert torch.equal(per_token[1, 2], torch.zeros(encoder.output_dim))


def test_char_features_get_gradients():
    encoder = CharCNN(5, dim=4, filters=6, dropout=0.0)
    encoder(CHARS).sum().backward()
    assert encoder.embedding.weight.grad[1:4].abs().sum() > 0
    assert encoder.embedding.weight.grad[0].abs().sum() == 0


@pytest.mark.parametrize(("target", "name", "size", "width"), [
    ("CharCNN", "char_cnn", {"filters": 6}, 6),
    ("CharLSTM", "char_lstm", {"hidden_size": 3}, 6),  # both directions: 2 x 3
])
def test_char_encoder_config_inside_the_word_embedding_config(target: str, name: str, size: dict, width: int):
    vocabs = Vocabularies(Vocab(["<pad>", "<unk>", "ab"], unk="<unk>"), Vocab(["O"]),
                          chars=Vocab(["<pad>", "<unk>", "a", "b"], unk="<unk>"))
    chars = {"_target_": f"seqtag.models.char_encoders.{target}", "_partial_": True, "dim": 4, **size}
    config = {"_target_": "seqtag.models.embeddings.WordEmbedding", "dim": 5, "chars": chars}
    saved = to_names(config)
    assert saved["chars"]["type"] == name and "_partial_" not in saved["chars"]
    for part in (build(config, vocabs=vocabs), build(saved, vocabs=vocabs)):
        assert type(part.chars).__name__ == target
        assert part.chars.embedding.num_embeddings == len(vocabs.chars)  # completed by the embedding
        assert part.output_dim == 5 + width
        batch = {"words": torch.tensor([[2]]), "chars": torch.tensor([[[2, 3]]])}
        assert part(batch).shape == (1, 1, 5 + width)
