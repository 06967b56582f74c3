from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from example_service.middleware.json_depth import DepthScanner, too_deep

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet='[]{}"\\ab\n'),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.text(alphabet='[]{}"\\k', max_size=3), children, max_size=3)
    ),
    max_leaves=20,
)


def depth_of(value: object) -> int:
    if isinstance(value, list):
        return 1 + max((depth_of(v) for v in value), default=0)
    if isinstance(value, dict):
        return 1 + max((depth_of(v) for v in value.values()), default=0)
    return 0


@given(json_values, st.integers(min_value=0, max_value=6), st.data())
def test_matches_the_real_depth_however_the_body_is_split(
    value: object, limit: int, data: st.DataObject
) -> None:
    body = json.dumps(value).encode()
    expected = depth_of(value) > limit
    assert too_deep(body, limit) is expected
    cuts = sorted(data.draw(st.lists(st.integers(0, len(body)), max_size=4)))
    scanner = DepthScanner(limit)
    pieces = [body[a:b] for a, b in zip([0, *cuts], [*cuts, len(body)], strict=True)]
    assert any(scanner.feed(piece) for piece in pieces) is expected


@pytest.mark.parametrize(
    ("body", "deep"),
    [
        (b'["\\\\", [[1]]]', True),  # an escaped backslash does not escape the closing quote
        (b'["\\"[[[[", 1]', False),  # an escaped quote keeps the string open
        (b'"[[[[[[[["', False),
        (b'{"\\"": [[[]]]}', True),  # found by hypothesis: an empty chunk after a backslash
    ],
)
def test_strings_and_escapes(body: bytes, deep: bool) -> None:
    assert too_deep(body, 2) is deep
    for cut in range(len(body) + 1):
        scanner = DepthScanner(2)
        assert (scanner.feed(body[:cut]) or scanner.feed(body[cut:])) is deep
