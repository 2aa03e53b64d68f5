"""Reader for labelled text in delimited files (CSV, TSV) with a header row."""

from __future__ import annotations

import csv
from collections.abc import Iterator

from seqtag.errors import CorpusFormatError

csv.field_size_limit(2**31 - 1)  # reviews can be long; the default limit is 128 KiB


def read_labelled(path: str, text_column: str, label_column: str, delimiter: str) -> Iterator[dict]:
    """Rows of a CSV/TSV file with a header, as ``{"text", "label"}``; errors name the line."""
    with open(path, encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle, delimiter=delimiter, quoting=csv.QUOTE_NONE if delimiter == "\t"
                            else csv.QUOTE_MINIMAL)
        try:
            header = [h.strip() for h in next(reader)]
        except StopIteration:
            raise CorpusFormatError(path, None, "the file is empty; it needs a header and rows") from None
        except UnicodeDecodeError as err:
            raise CorpusFormatError(path, 1, f"not valid UTF-8 ({err.reason})") from None
        for name in (text_column, label_column):
            if name not in header:
                raise CorpusFormatError(path, 1, f"no column {name!r} in the header {header}")
        text_at, label_at = header.index(text_column), header.index(label_column)
        try:
            for row in reader:
                if not row:
                    continue
                if len(row) != len(header):
                    raise CorpusFormatError(path, reader.line_num,
                                            f"expected {len(header)} fields, found {len(row)}")
                text, label = row[text_at].strip(), row[label_at].strip()
                if not label:
                    raise CorpusFormatError(path, reader.line_num, "empty label")
                if not text:
                    raise CorpusFormatError(path, reader.line_num, "empty text")
                yield {"text": text, "label": label}
        except UnicodeDecodeError as err:
            raise CorpusFormatError(path, reader.line_num + 1, f"not valid UTF-8 ({err.reason})") from None
