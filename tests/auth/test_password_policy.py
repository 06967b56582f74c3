"""The password policy on its own: length floor from settings, common list, own e-mail."""

from __future__ import annotations

import pytest

from example_service.auth.password_policy import (
    PasswordPolicy,
    WeakPasswordError,
    common_passwords,
)
from example_service.settings import SecuritySettings


def test_the_list_is_large_and_lowercase() -> None:
    passwords = common_passwords()
    assert len(passwords) > 19_000
    assert {"password", "123456", "qwerty"} <= passwords
    assert all(p == p.lower() for p in passwords)


def test_minimum_length_comes_from_settings() -> None:
    policy = PasswordPolicy(SecuritySettings(password_min_length=15).password_min_length)
    policy.check("tangerine-kite7")  # 15 characters: enough
    with pytest.raises(WeakPasswordError) as caught:
        policy.check("tangerine-kite")
    assert caught.value.field_errors == [
        ("password", "The password must have at least 15 characters.", "password_too_short")
    ]


def test_the_floor_cannot_go_below_eight() -> None:
    with pytest.raises(ValueError, match="password_min_length"):
        SecuritySettings(password_min_length=6)


def test_an_uncommon_password_passes() -> None:
    PasswordPolicy(8).check("violet kettle orbit", "alice@example.com")
