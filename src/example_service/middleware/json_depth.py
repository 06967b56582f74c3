"""Counting JSON nesting while a body streams, without parsing it.

Deeply nested JSON makes `json.loads` recurse until it raises RecursionError, and makes pydantic
validation slow long before that. Counting brackets outside strings bounds the depth at the
transport, before any parser sees the body. Only the structural bytes are visited (a regex finds
them in C), so a body of plain values costs next to nothing.
"""

from __future__ import annotations

import re

_STRUCTURAL = re.compile(rb'[\[\]{}"\\]')
_QUOTE, _BACKSLASH = 0x22, 0x5C
_OPEN = frozenset(b"[{")
_CLOSE = frozenset(b"]}")


class DepthScanner:
    """Feed body chunks in order; `feed` returns True once nesting exceeds `limit`."""

    __slots__ = ("depth", "escaped", "in_string", "limit")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.depth = 0
        self.in_string = False
        self.escaped = False  # the previous chunk ended inside a string on a backslash

    def feed(self, chunk: bytes) -> bool:
        if not chunk:
            return False  # an empty message must not drop a pending escape
        depth, in_string, limit = self.depth, self.in_string, self.limit
        # A backslash escapes the byte after it; a match there is skipped.
        skip = 0 if self.escaped else -1
        self.escaped = False
        for match in _STRUCTURAL.finditer(chunk):
            pos = match.start()
            if pos == skip:
                continue
            byte = chunk[pos]
            if in_string:
                if byte == _BACKSLASH:
                    skip = pos + 1
                    self.escaped = skip == len(chunk)
                elif byte == _QUOTE:
                    in_string = False
            elif byte == _QUOTE:
                in_string = True
            elif byte in _OPEN:
                depth += 1
                if depth > limit:
                    return True
            elif byte in _CLOSE:
                depth -= 1
        self.depth, self.in_string = depth, in_string
        return False


def too_deep(body: bytes, limit: int) -> bool:
    """Whether a complete body nests deeper than `limit`.

    Depth can never exceed the number of opening brackets, which bytes.count finds in C: most
    bodies are settled without scanning.
    """
    if body.count(b"[") + body.count(b"{") <= limit:
        return False
    return DepthScanner(limit).feed(body)
