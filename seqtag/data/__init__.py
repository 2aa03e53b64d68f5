"""Reading corpora, tag schemes, vocabularies, pretrained vectors and batching."""
