"""CoNLL column and CoNLL-U readers: sentence breaks, columns, and errors that name file and line."""

from __future__ import annotations

import pytest

from seqtag.data.conll import read_columns, read_conllu
from seqtag.errors import CorpusFormatError
from seqtag.schemes import tag_checker


def write(tmp_path, text, name="data.txt"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8", newline="")
    return path


def toks(sentences):
    return [s["tokens"] for s in sentences]


def tags(sentences):
    return [s["tags"] for s in sentences]


CONLL2003 = """-DOCSTART- -X- -X- O

EU NNP B-NP B-ORG
rejects VBZ B-VP O
German JJ B-NP B-MISC

Peter NNP B-NP B-PER
Blackburn NNP I-NP I-PER

-DOCSTART- -X- -X- O

BRUSSELS NNP B-NP B-LOC
"""


# --- column files -------------------------------------------------------------------------------


def test_conll2003_docstart_and_blank_lines(tmp_path):
    sentences = list(read_columns(write(tmp_path, CONLL2003)))
    assert toks(sentences) == [["EU", "rejects", "German"], ["Peter", "Blackburn"], ["BRUSSELS"]]
    assert tags(sentences) == [["B-ORG", "O", "B-MISC"], ["B-PER", "I-PER"], ["B-LOC"]]


def test_documents_are_numbered_from_docstart_lines(tmp_path):
    sentences = list(read_columns(write(tmp_path, CONLL2003), token_column=0, tag_column=3))
    assert [s["doc"] for s in sentences] == [0, 0, 1]
    # a file without -DOCSTART- is one document; a leading or repeated marker adds no empty one
    assert [s["doc"] for s in read_columns(write(tmp_path, "a O\n\nb O\n"))] == [0, 0]
    text = "-DOCSTART- O\n\n-DOCSTART- O\n\na O\n\n-DOCSTART- O\nb O\n"
    assert [s["doc"] for s in read_columns(write(tmp_path, text))] == [0, 1]


def test_docstart_without_blank_line_still_splits_sentences(tmp_path):
    text = "a O\nb B-PER\n-DOCSTART- -X- -X- O\nc O\n"
    assert toks(read_columns(write(tmp_path, text))) == [["a", "b"], ["c"]]


def test_docstart_can_be_disabled(tmp_path):
    text = "-DOCSTART- O\nx O\n"
    assert toks(read_columns(write(tmp_path, text), docstart="")) == [["-DOCSTART-", "x"]]


def test_several_blank_lines_and_whitespace_only_lines_make_one_break(tmp_path):
    text = "\n\n  \na O\nb O\n\n\n\n \t \nc O\n\n\n"
    assert toks(read_columns(write(tmp_path, text))) == [["a", "b"], ["c"]]


def test_last_sentence_without_final_blank_line(tmp_path):
    text = "a O\n\nb O\nc B-LOC"
    sentences = list(read_columns(write(tmp_path, text)))
    assert toks(sentences) == [["a"], ["b", "c"]]
    assert tags(sentences) == [["O"], ["O", "B-LOC"]]


def test_crlf_line_endings(tmp_path):
    text = "EU B-ORG\r\nrejects O\r\n\r\nPeter B-PER\r\n"
    sentences = list(read_columns(write(tmp_path, text)))
    assert toks(sentences) == [["EU", "rejects"], ["Peter"]]
    # no '\r' left on the last column
    assert tags(sentences) == [["B-ORG", "O"], ["B-PER"]]


def test_crlf_line_endings_with_tab_separator(tmp_path):
    # split on tabs only, so the '\r' must already be gone from the last column
    text = "EU\tB-ORG\r\nrejects\tO\r\n\r\nPeter\tB-PER\r\n"
    sentences = list(read_columns(write(tmp_path, text), separator="\t"))
    assert tags(sentences) == [["B-ORG", "O"], ["B-PER"]]


def test_empty_file_yields_nothing(tmp_path):
    assert list(read_columns(write(tmp_path, ""))) == []
    assert list(read_columns(write(tmp_path, "\n\n-DOCSTART- O\n\n", name="b.txt"))) == []


def test_comment_prefix(tmp_path):
    text = "# sent_id = 1\na O\n# inside a sentence\nb B-PER\n\n# text = c\nc O\n"
    sentences = list(read_columns(write(tmp_path, text), comment_prefix="#"))
    assert toks(sentences) == [["a", "b"], ["c"]]


def test_without_comment_prefix_comment_lines_are_tokens_or_errors(tmp_path):
    # '# x' has 2 columns like the data lines, so it is read as token '#' with tag 'x'
    path = write(tmp_path, "# x\na O\n")
    assert toks(read_columns(path)) == [["#", "a"]]
    # ... and a tag check rejects it, at line 1
    with pytest.raises(CorpusFormatError) as info:
        list(read_columns(path, tag_check=tag_checker("iob2")))
    assert info.value.line == 1


def test_tab_separator_keeps_spaces_inside_tokens(tmp_path):
    text = "New York\tB-LOC\tx\nis\tO\tx\n\ncity hall\tB-FAC\tx\n"
    sentences = list(read_columns(write(tmp_path, text), separator="\t", tag_column=1))
    assert toks(sentences) == [["New York", "is"], ["city hall"]]
    assert tags(sentences) == [["B-LOC", "O"], ["B-FAC"]]


def test_whitespace_split_of_tab_file_sees_more_columns(tmp_path):
    # the same line split on any whitespace has 3 columns instead of 2
    path = write(tmp_path, "New York\tB-LOC\nis\tO\n")
    with pytest.raises(CorpusFormatError) as info:
        list(read_columns(path))
    assert info.value.line == 2


def test_configurable_token_and_tag_columns(tmp_path):
    # columns: id, tag, token, chunk
    text = "1 B-PER Peter B-NP\n2 I-PER Blackburn I-NP\n\n1 O went B-VP\n"
    path = write(tmp_path, text)
    sentences = list(read_columns(path, token_column=2, tag_column=1))
    assert toks(sentences) == [["Peter", "Blackburn"], ["went"]]
    assert tags(sentences) == [["B-PER", "I-PER"], ["O"]]
    # the chunk column instead, by positive and by negative index
    assert tags(read_columns(path, token_column=2, tag_column=3)) == [["B-NP", "I-NP"], ["B-VP"]]
    assert tags(read_columns(path, token_column=2, tag_column=-1)) == [["B-NP", "I-NP"], ["B-VP"]]


def test_tag_column_beyond_the_columns_is_an_error(tmp_path):
    path = write(tmp_path, "\nPeter B-PER\n")
    with pytest.raises(CorpusFormatError) as info:
        list(read_columns(path, tag_column=3))
    assert info.value.line == 2
    assert "column" in info.value.problem


def test_wrong_column_count_names_file_and_exact_line(tmp_path):
    text = "-DOCSTART- -X- -X- O\n\nEU NNP B-NP B-ORG\nrejects VBZ B-VP O\n\nGerman JJ B-MISC\nx y z O\n"
    path = write(tmp_path, text)
    with pytest.raises(CorpusFormatError) as info:
        list(read_columns(path))
    err = info.value
    assert err.line == 6
    assert err.path == str(path)
    message = str(err)
    assert str(path) in message
    assert "line 6" in message
    assert "expected 4 columns, found 3" in message


def test_too_many_columns_is_also_an_error(tmp_path):
    path = write(tmp_path, "a O\nb c O\n")
    with pytest.raises(CorpusFormatError, match=r"line 2: expected 2 columns, found 3"):
        list(read_columns(path))


def test_fixed_num_columns_applies_to_the_first_line_too(tmp_path):
    path = write(tmp_path, "a NN O\n")
    with pytest.raises(CorpusFormatError) as info:
        list(read_columns(path, num_columns=2))
    assert info.value.line == 1


def test_error_reported_lazily_after_good_sentences(tmp_path):
    # reading is a generator: good sentences come out before the bad line is reached
    path = write(tmp_path, "a O\n\nb O O\n")
    reader = read_columns(path)
    assert next(reader)["tokens"] == ["a"]
    with pytest.raises(CorpusFormatError):
        next(reader)


@pytest.mark.parametrize("bad", ["X-PER", "B_PER", "PER", "E-PER", "S-LOC", "B-"])
def test_tag_not_in_iob2_scheme_is_an_error_with_line(tmp_path, bad):
    path = write(tmp_path, f"Peter B-PER\nBlackburn I-PER\n\nsaid O\nhi {bad}\n")
    with pytest.raises(CorpusFormatError) as info:
        list(read_columns(path, tag_check=tag_checker("iob2")))
    assert info.value.line == 5
    assert f"{path}, line 5" in str(info.value)
    assert repr(bad) in str(info.value)
    assert "IOB2" in str(info.value)


def test_iobes_tags_pass_iobes_check_and_none_scheme_accepts_anything(tmp_path):
    path = write(tmp_path, "a S-PER\nb B-LOC\nc E-LOC\nd O\n")
    assert tags(read_columns(path, tag_check=tag_checker("iobes"))) == [["S-PER", "B-LOC", "E-LOC", "O"]]
    pos = write(tmp_path, "a DT\nb NN\n", name="pos.txt")
    assert tags(read_columns(pos, tag_check=tag_checker("none"))) == [["DT", "NN"]]
    with pytest.raises(CorpusFormatError):
        list(read_columns(pos, tag_check=tag_checker("iob2")))


def test_non_utf8_bytes_name_the_line(tmp_path):
    path = tmp_path / "latin1.txt"
    path.write_bytes(b"EU B-ORG\n\nM\xfcller B-PER\n")
    reader = read_columns(path)
    assert next(reader)["tokens"] == ["EU"]
    with pytest.raises(CorpusFormatError) as info:
        next(reader)
    assert info.value.line == 3
    assert f"{path}, line 3" in str(info.value)
    assert "UTF-8" in str(info.value)


def test_byte_order_mark_is_dropped(tmp_path):
    path = tmp_path / "bom.txt"
    path.write_bytes(b"\xef\xbb\xbf-DOCSTART- -X- -X- O\n\nEU B-ORG\n")
    assert toks(read_columns(path)) == [["EU"]]
    path.write_bytes(b"\xef\xbb\xbfEU B-ORG\n")
    assert toks(read_columns(path)) == [["EU"]]
    # only at the very start: elsewhere U+FEFF stays part of the token
    path.write_bytes(b"a O\n\xef\xbb\xbfb O\n")
    assert toks(read_columns(path)) == [["a", "\ufeffb"]]


def test_conllu_byte_order_mark_is_dropped(tmp_path):
    path = tmp_path / "bom.conllu"
    path.write_bytes(b"\xef\xbb\xbf# sent_id = 1\n" + word(1, "A", "DET", "DT").encode())
    assert toks(read_conllu(path)) == [["A"]]


def test_utf8_tokens_are_kept(tmp_path):
    path = write(tmp_path, "Müller B-PER\nſtraße O\n")
    assert toks(read_columns(path)) == [["Müller", "ſtraße"]]


def test_error_message_format_without_line():
    err = CorpusFormatError("some/file.txt", None, "the file is empty")
    assert str(err) == "some/file.txt: the file is empty"
    assert CorpusFormatError("f", 7, "bad").line == 7
    assert str(CorpusFormatError("f", 7, "bad")) == "f, line 7: bad"


# --- CoNLL-U ------------------------------------------------------------------------------------


def conllu_line(*fields):
    assert len(fields) == 10
    return "\t".join(fields) + "\n"


def word(i, form, upos, xpos):
    return conllu_line(str(i), form, form.lower(), upos, xpos, "_", "0", "_", "_", "_")


CONLLU = (
    "# newdoc id = d1\n"
    "# sent_id = 1\n"
    "# text = Vámonos al mar.\n"
    + conllu_line("1-2", "Vámonos", "_", "_", "_", "_", "_", "_", "_", "_")
    + word(1, "Vamos", "VERB", "VMM01P0")
    + word(2, "nos", "PRON", "PP1CP00")
    + conllu_line("3-4", "al", "_", "_", "_", "_", "_", "_", "_", "_")
    + word(3, "a", "ADP", "SPS00")
    + word(4, "el", "DET", "DA0MS0")
    + word(5, "mar", "NOUN", "NCMS000")
    + conllu_line("5.1", "ir", "ir", "VERB", "_", "_", "_", "_", "4:nsubj", "_")
    + word(6, ".", "PUNCT", "Fp")
    + "\n"
    + "# sent_id = 2\n"
    + word(1, "Sí", "INTJ", "I")
    + "\n"
)


def test_conllu_skips_ranges_empty_nodes_and_comments(tmp_path):
    sentences = list(read_conllu(write(tmp_path, CONLLU, name="x.conllu")))
    assert toks(sentences) == [["Vamos", "nos", "a", "el", "mar", "."], ["Sí"]]
    assert tags(sentences) == [["VERB", "PRON", "ADP", "DET", "NOUN", "PUNCT"], ["INTJ"]]


def test_conllu_documents_follow_newdoc_comments(tmp_path):
    text = CONLLU + "# newdoc id = d2\n" + word(1, "Hola", "INTJ", "I") + "\n"
    assert [s["doc"] for s in read_conllu(write(tmp_path, text))] == [0, 0, 1]


def test_conllu_xpos(tmp_path):
    sentences = list(read_conllu(write(tmp_path, CONLLU, name="x.conllu"), tag_field="xpos"))
    assert tags(sentences) == [["VMM01P0", "PP1CP00", "SPS00", "DA0MS0", "NCMS000", "Fp"], ["I"]]


def test_conllu_unknown_tag_field():
    with pytest.raises(ValueError, match="upos"):
        list(read_conllu("unused.conllu", tag_field="deprel"))


def test_conllu_without_final_blank_line_and_with_crlf(tmp_path):
    text = (word(1, "A", "DET", "DT") + word(2, "b", "NOUN", "NN") + "\n" + word(1, "C", "X", "FW"))
    sentences = list(read_conllu(write(tmp_path, text.replace("\n", "\r\n"), name="x.conllu")))
    assert toks(sentences) == [["A", "b"], ["C"]]
    assert tags(sentences) == [["DET", "NOUN"], ["X"]]


def test_conllu_wrong_column_count_names_line(tmp_path):
    text = "# sent_id = 1\n" + word(1, "A", "DET", "DT") + "2\tb\tb\tNOUN\tNN\t_\t0\t_\t_\n"
    path = write(tmp_path, text, name="x.conllu")
    with pytest.raises(CorpusFormatError) as info:
        list(read_conllu(path))
    assert info.value.line == 3
    assert f"{path}, line 3" in str(info.value)
    assert "found 9" in str(info.value)


def test_conllu_space_separated_line_is_an_error(tmp_path):
    # CoNLL-U is tab-separated; a line with spaces instead of tabs is one column
    path = write(tmp_path, "1 A a DET DT _ 0 _ _ _\n", name="x.conllu")
    with pytest.raises(CorpusFormatError, match="line 1:.*found 1"):
        list(read_conllu(path))


def test_conllu_missing_tag_and_bad_id(tmp_path):
    missing = write(tmp_path, word(1, "A", "DET", "DT") + word(2, "b", "_", "NN"), name="m.conllu")
    with pytest.raises(CorpusFormatError, match="line 2: missing UPOS"):
        list(read_conllu(missing))
    # the same file is fine with XPOS
    assert tags(read_conllu(missing, tag_field="xpos")) == [["DT", "NN"]]
    bad_line = conllu_line("x", "A", "a", "DET", "DT", "_", "0", "_", "_", "_")
    bad_id = write(tmp_path, bad_line, name="i.conllu")
    with pytest.raises(CorpusFormatError, match="line 1: word ID 'x'"):
        list(read_conllu(bad_id))


def test_conllu_non_utf8(tmp_path):
    path = tmp_path / "x.conllu"
    path.write_bytes(word(1, "A", "DET", "DT").encode() + b"2\tM\xfcller\t_\tPROPN\tNNP\t_\t0\t_\t_\t_\n")
    with pytest.raises(CorpusFormatError, match="line 2: not valid UTF-8"):
        list(read_conllu(path))
