"""Masking personal data and secrets in what the request log writes (LOG_REQUESTS).

Two kinds of masking, applied only to the fields the request log writes, never on other paths:

- by field name: a value under a sensitive name (password, token, secret, authorization, api
  key, cookie, ... and LOG_MASK_FIELDS) becomes `***` whatever it is;
- by pattern, in every string: e-mail addresses keep their first character and domain
  (`u***@example.com`), card numbers and phone numbers their last four digits
  (`****-****-****-1234`, `***-***-4567`), US social security numbers nothing (`***-**-****`),
  bearer tokens, JWTs and long key-like strings nothing (`***`), and every match of a
  LOG_MASK_PATTERNS regex nothing.

Patterns are compiled once, and tried only when a cheap test says they could match (a digit, an
`@`, a long enough string), so text without any costs a few scans. A structure is masked
recursively down to MAX_DEPTH levels; deeper values are replaced, not walked.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

MASK = "***"  # as the log pipeline's own redaction writes it (observability/logging.py)
MAX_DEPTH = 8
TOO_DEEP = "[too deep]"

_SENSITIVE_NAMES = (
    "password",
    "passwd",
    "pwd",
    "secret",
    "token",
    "authorization",
    "api_key",
    "apikey",
    "api-key",
    "cookie",
    "credential",
    "session",
    "private_key",
    "ssn",
    "card_number",
    "cvv",
)

# Any local part RFC 5322 allows unquoted (`{`, `'` and `/` included), not only the usual ones.
_EMAIL = re.compile(
    r"([A-Za-z0-9!#$%&'*+/=?^_`{|}~.\-])[A-Za-z0-9!#$%&'*+/=?^_`{|}~.\-]*"
    r"@([A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+)"
)
# A JWT (three base64url parts, the first a JSON header), a bearer credential, and any run of
# 32+ key-like characters (API keys, session ids, hex digests): secrets have no other shape.
_JWT = re.compile(r"eyJ[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]*")
_BEARER = re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/\-]+=*")
_KEY_LIKE = re.compile(r"[A-Za-z0-9_\-]{32,}")
# Identifiers are what a log is for: a UUID is kept although it looks like a key.
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
# Numbers standing alone, not inside an identifier (a UUID's groups look like a phone number):
# preceded and followed by no word character. An SSN's fixed form cannot swallow a real one
# that follows it, so its check is made in Python (`_alone`), which spares the regex engine a
# lookbehind at every position (4x faster); a card or phone number's looser forms can, so they
# keep theirs.
_ALONE, _END = r"(?<![\w\-.])", r"(?![\w\-])"
_SSN = re.compile(r"\d{3}-\d{2}-\d{4}" + _END)
# 13 to 19 digits, optionally in groups split by one space or hyphen.
_CARD = re.compile(_ALONE + r"\d(?:[ \-]?\d){12,18}" + _END)
# North American and international forms: +1 (555) 123-4567, 555-123-4567, 555.123.4567, ...
_PHONE = re.compile(
    _ALONE + r"(?:\+\d{1,3}[ .\-]?)?(?:\(\d{2,4}\)|\d{2,4})[ .\-]\d{3,4}[ .\-]\d{4}" + _END
)
_DIGIT = re.compile(r"\d")
# Nothing below this length can hold what the patterns find (`pw=x`, `a@b.c`).
_SHORTEST = 4
_CARD_LENGTHS = frozenset({15, 16, 19})  # unbroken runs: American Express, most cards, some


# `name: value`, `name=value`, `"name": "value"` in free text (a body that is not valid JSON, a
# message): the value goes when the name is sensitive.
# The value is looked ahead, not consumed, so a pair inside another's value is found too
# (`url=https://host/?token=...`).
_PAIR = re.compile(r"""([\w\-]+)("?\s*[:=]\s*"?)(?=([^\s"&,;}]*))""")


def _alone(match: re.Match[str]) -> bool:
    start = match.start()
    if start == 0:
        return True
    before = match.string[start - 1]
    return not (before.isalnum() or before in "_-.")


def _ssn(match: re.Match[str]) -> str:
    return "***-**-****" if _alone(match) else match.group(0)


def _card(match: re.Match[str]) -> str:
    text = match.group(0)
    digits = [c for c in text if c.isdigit()]
    if len(digits) == len(text) and not (len(digits) in _CARD_LENGTHS and _luhn(digits)):
        # One unbroken run of another length or failing the card checksum: a timestamp in
        # milliseconds, an order number. Written in groups, it is masked whatever its checksum.
        return text
    groups = (len(digits) - 4 + 3) // 4
    return "-".join(["****"] * groups + ["".join(digits[-4:])])


def _luhn(digits: Sequence[str]) -> bool:
    total = 0
    for i, digit in enumerate(reversed(digits)):
        value = int(digit)
        if i % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _key(match: re.Match[str]) -> str:
    return match.group(0) if _UUID.fullmatch(match.group(0)) else MASK


def _phone(match: re.Match[str]) -> str:
    text = match.group(0)
    last4 = "".join(c for c in text if c.isdigit())[-4:]
    return "***-***-" + last4


def _is_identifier(name: str) -> bool:
    """`id`, `user_id`, `x-request-id`, `userId`: names whose values are identifiers."""
    lowered = name.lower()
    return lowered == "id" or lowered.endswith(("_id", "-id")) or name.endswith("Id")


class PIIMasker:
    """Masks values for the request log; one per app, built from LOG_MASK_* settings."""

    def __init__(self, fields: Iterable[str] = (), patterns: Iterable[str] = ()) -> None:
        self.names = tuple(name.lower() for name in (*_SENSITIVE_NAMES, *fields))
        self.custom = [re.compile(pattern) for pattern in patterns]
        self._sensitive: dict[str, bool] = {}

    def is_sensitive(self, name: str) -> bool:
        hit = self._sensitive.get(name)
        if hit is None:
            lowered = name.lower()
            hit = any(part in lowered for part in self.names)
            if len(self._sensitive) < 4096:  # names come from clients: a bounded memo
                self._sensitive[name] = hit
        return hit

    def text(self, value: str, *, identifier: bool = False) -> str:
        """`value` with every pattern's matches masked; an `identifier` (the value of an `id`
        field or header) keeps its key-like runs (request ids are 32 hex digits)."""
        for pattern in self.custom:
            value = pattern.sub(MASK, value)
        if len(value) < _SHORTEST:
            return value
        if " " in value:  # before the pairs: `Authorization: Bearer x` would leave x
            value = _BEARER.sub(lambda m: f"{m.group(1)} {MASK}", value)
        if ":" in value or "=" in value:
            value = self._pairs(value)
        if len(value) >= 32 and not identifier:
            value = _JWT.sub(MASK, value)
            value = _KEY_LIKE.sub(_key, value)
        if "@" in value:
            value = _EMAIL.sub(r"\1***@\2", value)
        if _DIGIT.search(value):
            value = _SSN.sub(_ssn, value)
            value = _CARD.sub(_card, value)
            value = _PHONE.sub(_phone, value)
        return value

    def _pairs(self, text: str) -> str:
        parts: list[str] = []
        done = 0  # text[:done] is settled
        for match in _PAIR.finditer(text):
            found = match.group(3)
            if match.start() < done or not found or not self.is_sensitive(match.group(1)):
                continue
            parts += (text[done : match.end()], MASK)
            done = match.end() + len(found)
        if not parts:
            return text
        parts.append(text[done:])
        return "".join(parts)

    def value(self, value: Any, depth: int = 0, *, identifier: bool = False) -> Any:
        """A JSON-like `value` masked: strings by pattern, mappings by key name too."""
        if isinstance(value, str):
            return self.text(value, identifier=identifier)
        if depth >= MAX_DEPTH and isinstance(value, Mapping | list | tuple):
            return TOO_DEEP
        if isinstance(value, Mapping):
            return {
                str(k): MASK
                if self.is_sensitive(str(k))
                else self.value(v, depth + 1, identifier=_is_identifier(str(k)))
                for k, v in value.items()
            }
        if isinstance(value, list | tuple):
            return [self.value(item, depth + 1) for item in value]
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**12:
            masked = self.text(str(value))  # a card number sent as a JSON number
            return value if masked == str(value) else masked
        return value  # other numbers, booleans, None

    def pairs(self, items: Iterable[tuple[str, str]]) -> dict[str, str]:
        """Header or query pairs as a mapping, masked by name and by pattern (repeated names
        joined by ', ', as HTTP would)."""
        masked: dict[str, str] = {}
        for name, raw in items:
            if self.is_sensitive(name):
                value = MASK
            else:
                value = self.text(raw, identifier=_is_identifier(name))
            masked[name] = f"{masked[name]}, {value}" if name in masked else value
        return masked
