"""The masker the request log uses: each kind of personal data and secret the seed lists, the
things it must leave alone, and properties over generated inputs."""

from __future__ import annotations

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from example_service.observability.logging import REDACTED
from example_service.observability.pii import MASK, MAX_DEPTH, TOO_DEEP, PIIMasker

masker = PIIMasker()


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        # The seed's examples.
        ("user@example.com", "u***@example.com"),
        ("555-123-4567", "***-***-4567"),
        ("4111-1111-1111-1234", "****-****-****-1234"),
        ("123-45-6789", "***-**-****"),
        # Other forms of the same.
        ("call +1 (555) 123-4567 today", "call ***-***-4567 today"),
        ("555.123.4567", "***-***-4567"),
        ("card 4111111111111111 ok", "card ****-****-****-1111 ok"),
        ("4111 1111 1111 1234", "****-****-****-1234"),
        ("Authorization: Bearer abc.def-ghi", "Authorization: *** ***"),
        ("sent Bearer abc.def-ghi", "sent Bearer ***"),
        ("key es_" + "A1b2" * 11, "key ***"),
        ("jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln", "jwt ***"),
        ('{"password": "hunter2", "x": 1', '{"password": "***", "x": 1'),
        ("https://h/cb?token=abc&page=2", "https://h/cb?token=***&page=2"),
    ],
)
def test_each_kind_is_masked(raw: str, masked: str) -> None:
    assert masker.text(raw) == masked


@pytest.mark.parametrize(
    "kept",
    [
        "3fa85f64-5717-4562-b3fc-2c963f66afa6",  # a UUID: what logs are for
        "1764532800000",  # milliseconds since the epoch, not a card
        "2026-11-30T12:00:00Z",
        "order 12345 shipped",
        "time: 12:00",
        "version 1.2.3",
    ],
)
def test_identifiers_and_dates_are_left_alone(kept: str) -> None:
    assert masker.text(kept) == kept


def test_one_mask_in_every_line() -> None:
    assert MASK == REDACTED  # what the log pipeline writes for the names it knows


def test_structures_are_masked_by_field_name_and_pattern() -> None:
    body = {
        "email": "alice@example.com",
        "Password": "correct horse",
        "profile": {"api_key": 12345, "phones": ["555-123-4567"], "card": 4111111111111111},
        "count": 3,
        "ok": True,
        "none": None,
    }
    assert masker.value(body) == {
        "email": "a***@example.com",
        "Password": MASK,
        "profile": {"api_key": MASK, "phones": ["***-***-4567"], "card": "****-****-****-1111"},
        "count": 3,
        "ok": True,
        "none": None,
    }


def test_depth_is_bounded() -> None:
    deep: object = "bob@example.com"
    for _ in range(MAX_DEPTH + 5):
        deep = {"a": deep}
    text = orjson.dumps(masker.value(deep)).decode()
    assert TOO_DEEP in text and "bob@" not in text


def test_custom_fields_and_patterns() -> None:
    custom = PIIMasker(fields=["iban"], patterns=[r"EMP-\d{6}"])
    assert custom.value({"IBAN": "DE89370400440532013000", "who": "EMP-123456 here"}) == {
        "IBAN": MASK,
        "who": f"{MASK} here",
    }
    assert masker.text("EMP-123456") == "EMP-123456"  # not a default pattern


def test_headers_and_query_pairs() -> None:
    pairs = [("authorization", "Bearer x"), ("cookie", "s=1"), ("x-note", "bob@example.com")]
    pairs.append(("x-note", "second"))
    assert masker.pairs(pairs) == {
        "authorization": MASK,
        "cookie": MASK,
        "x-note": "b***@example.com, second",
    }


# --- properties: whatever surrounds them, these never come out whole ----------------------------

emails = st.emails().filter(lambda e: len(e.split("@")[0]) > 1)
# A prefix no name or mask can contain by chance.
secrets = st.from_regex(r"[A-Za-z0-9]{6,20}", fullmatch=True).map(lambda s: "Zq9" + s)
cards = st.sampled_from(["4111111111111111", "5500005555555559", "340000000000009"]).flatmap(
    lambda card: st.sampled_from([card, "-".join(card[i : i + 4] for i in range(0, 16, 4))])
)
filler = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=20)
sensitive_names = st.sampled_from(["password", "new_password", "token", "refresh_token", "secret"])


@settings(max_examples=200, deadline=None)
@given(email=emails, before=filler, after=filler)
def test_no_email_comes_out_whole(email: str, before: str, after: str) -> None:
    assert email not in masker.text(f"{before} {email} {after}")


@settings(max_examples=200, deadline=None)
@given(card=cards, before=filler, after=filler)
def test_no_card_number_comes_out_whole(card: str, before: str, after: str) -> None:
    out = masker.text(f"{before} {card} {after}")
    digits = card.replace("-", "")
    assert card not in out and digits not in out


@settings(max_examples=200, deadline=None)
@given(name=sensitive_names, secret=secrets, extra=st.dictionaries(st.text(max_size=8), filler))
def test_no_sensitive_field_comes_out_whole(name: str, secret: str, extra: dict[str, str]) -> None:
    body = {**{k: v for k, v in extra.items() if secret not in v}, name: secret}
    nested = {"data": [body], "meta": {name.upper(): secret}}
    out = orjson.dumps(masker.value(nested)).decode()
    assert secret not in out
    # The same body as text (not valid JSON once cut), masked by `name: value` pairs.
    assert secret not in masker.text(orjson.dumps(body).decode()[:-1])


@settings(max_examples=100, deadline=None)
@given(token=st.text(alphabet="ABCDEFabcdef0123456789_-", min_size=32, max_size=64))
def test_no_key_like_token_comes_out_whole(token: str) -> None:
    out = masker.text(f"key={token} and X-Api-Key {token}")
    assert token not in out
