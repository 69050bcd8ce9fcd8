"""Match a stream of byte chunks with flat memory.

Each round scans a buffer that keeps ``matcher.lookback`` bytes before the new region and
``matcher.overlap`` bytes after it, and keeps only the hits that *start* inside the region, so a
match that straddles a chunk boundary is found exactly once, with its true line and column.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from keyscan.matcher import Matcher, chars_in
from keyscan.model import Hit


def scan_stream(chunks: Iterable[bytes], matcher: Matcher) -> tuple[list[Hit], int]:
    """All hits of the stream (offsets from the stream's start) and the number of bytes read."""
    hits: list[Hit] = []
    buf = b""
    buf_start = 0  # absolute offset of buf[0]
    line = 1  # line number at buf[0]
    column = 0  # characters on that line before buf[0]
    report_from = 0  # absolute offset: hits before it were reported already
    total = 0
    iterator = iter(chunks)
    eof = False
    while not eof:
        chunk = next(iterator, None)
        if chunk is None:
            eof = True
        else:
            total += len(chunk)
            buf += chunk
            if len(buf) - (report_from - buf_start) < matcher.overlap * 2:
                continue  # too little new data to be worth a pass; read more first
        buf_end = buf_start + len(buf)
        report_to = buf_end if eof else buf_end - matcher.overlap
        for hit in matcher.scan(buf, base_line=line, base_column=column):
            start = buf_start + hit.start
            if report_from <= start < report_to:
                hits.append(_shift(hit, buf_start))
        report_from = report_to
        if eof:
            break
        cut = max(0, report_to - matcher.lookback - buf_start)
        dropped = buf[:cut]
        newlines = dropped.count(b"\n")
        if newlines:
            line += newlines
            column = chars_in(dropped[dropped.rfind(b"\n") + 1 :])
        else:
            column += chars_in(dropped)
        buf = buf[cut:]
        buf_start += cut
    return hits, total


def _shift(hit: Hit, by: int) -> Hit:
    return replace(hit, start=hit.start + by, end=hit.end + by) if by else hit
