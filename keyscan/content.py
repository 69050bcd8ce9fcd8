"""What kind of bytes a file or blob holds, and turning UTF-16 text into UTF-8 for matching."""

from __future__ import annotations

import codecs
from collections.abc import Iterable, Iterator

SNIFF_BYTES = 8000  # as git: a NUL in the first 8000 bytes means binary
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


def is_utf16(head: bytes) -> bool:
    return head.startswith(_UTF16_BOMS)


def is_binary(head: bytes) -> bool:
    """Binary as git decides it (a NUL byte near the start); UTF-16 text with a BOM is text."""
    return not is_utf16(head) and b"\0" in head[:SNIFF_BYTES]


def utf16_to_utf8(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """Transcode a UTF-16 stream (BOM first) chunk by chunk; bad code units become U+FFFD."""
    decoder = codecs.getincrementaldecoder("utf-16")(errors="replace")
    for chunk in chunks:
        text = decoder.decode(chunk)
        if text:
            yield text.encode("utf-8")
    tail = decoder.decode(b"", final=True)
    if tail:
        yield tail.encode("utf-8")
