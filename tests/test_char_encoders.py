import pytest
import torch

from seqtag.models.char_encoders import CharCNN, CharLSTM

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


def test_char_features_get_gradients():
    encoder = CharCNN(5, dim=4, filters=6, dropout=0.0)
    encoder(CHARS).sum().backward()
    assert encoder.embedding.weight.grad[1:4].abs().sum() > 0
    assert encoder.embedding.weight.grad[0].abs().sum() == 0
