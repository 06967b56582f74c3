"""Schemathesis hooks for the contract run (loaded with SCHEMATHESIS_HOOKS=tests.contract.hooks).

Registration and password changes refuse, by policy, passwords the schema cannot describe: the
~20,000 most common ones (Schemathesis readily generates "00000000") and the account's own
e-mail. schemathesis.toml lets those two operations answer a schema-valid request with 422;
this check then makes sure such a 422 comes from the password policy and nothing else, so a
schema that disagrees with the validators is still caught there.
"""

from __future__ import annotations

from typing import Any

import schemathesis

PASSWORD_POLICY = frozenset({"password_too_short", "password_too_common", "password_is_email"})


@schemathesis.check
def rejected_only_by_password_policy(ctx: Any, response: Any, case: Any) -> bool | None:
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or response.status_code != 422:
        return None
    errors = response.json().get("errors") or []
    kinds = {error.get("type") for error in errors}
    if errors and kinds <= PASSWORD_POLICY:
        return None
    raise AssertionError(
        f"Schema-valid request rejected with 422 by more than the policy: {errors}"
    )
