"""Check a running instance end to end: `python scripts/verify_prod_hardening.py BASE_URL`.

Creates a user, logs in, reads the user twice, checks the error contract on a 404, and when
the responses carry X-RateLimit-* headers drives a 429 and checks its body and headers.
Prints `OK: ...` and exits 0, or `FAIL: ...` and exits 1.
"""

from __future__ import annotations

import secrets
import sys

import httpx

PROBLEM = "application/problem+json"
MAX_RATE_LIMIT_REQUESTS = 2000


class CheckFailedError(Exception):
    pass


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise CheckFailedError(message)


def error_code(response: httpx.Response) -> str | None:
    """The error code in either error format (problem details or the envelope)."""
    body = response.json()
    if "error" in body and isinstance(body["error"], dict):
        return body["error"].get("code")
    return body.get("code")  # type: ignore[no-any-return]


def request_id_of(response: httpx.Response) -> str | None:
    body = response.json()
    if "error" in body and isinstance(body["error"], dict):
        return body["error"].get("request_id")
    return body.get("request_id")  # type: ignore[no-any-return]


def check_error_contract(response: httpx.Response, status: int, code: str) -> None:
    expect(response.status_code == status, f"expected {status}, got {response.status_code}")
    media = response.headers.get("content-type", "")
    expect(media.startswith((PROBLEM, "application/json")), f"{status}: content type {media!r}")
    expect(error_code(response) == code, f"{status}: code {error_code(response)!r} != {code!r}")
    header_id = response.headers.get("x-request-id")
    expect(bool(header_id), f"{status}: no X-Request-ID header")
    expect(request_id_of(response) == header_id, f"{status}: body request_id != X-Request-ID")


def verify(base_url: str, client: httpx.Client) -> list[str]:
    done: list[str] = []
    api = base_url.rstrip("/") + "/api/v1"
    email = f"verify-{secrets.token_hex(6)}@example.com"
    password = secrets.token_urlsafe(18)

    created = client.post(
        f"{api}/users", json={"email": email, "password": password, "full_name": "Verify"}
    )
    expect(created.status_code == 201, f"create user: {created.status_code} {created.text}")
    user_id = created.json()["id"]
    done.append("user created")

    login = client.post(f"{api}/auth/login", json={"email": email, "password": password})
    expect(login.status_code == 200, f"login: {login.status_code} {login.text}")
    auth = {"Authorization": f"Bearer {login.json()['access_token']}"}
    done.append("logged in")

    reads = [client.get(f"{api}/users/{user_id}", headers=auth) for _ in range(2)]
    for read in reads:
        expect(read.status_code == 200, f"read user: {read.status_code} {read.text}")
        expect("hashed_password" not in read.text, "read user: the password hash leaked")
    expect(reads[0].json() == reads[1].json(), "read user: the two reads differ")
    done.append("user read twice")

    missing = client.get(f"{api}/does-not-exist-{secrets.token_hex(4)}")
    check_error_contract(missing, 404, "not_found")
    done.append("404 follows the error contract")

    if any(name.lower().startswith("x-ratelimit-") for name in reads[-1].headers):
        for _ in range(MAX_RATE_LIMIT_REQUESTS):
            limited = client.get(f"{api}/users/{user_id}", headers=auth)
            if limited.status_code == 429:
                break
        else:
            raise CheckFailedError(f"no 429 after {MAX_RATE_LIMIT_REQUESTS} requests")
        check_error_contract(limited, 429, "rate_limited")
        expect(limited.headers.get("retry-after", "").isdigit(), "429: no numeric Retry-After")
        expect("x-ratelimit-limit" in limited.headers, "429: no X-RateLimit-Limit")
        done.append("429 follows the error contract")
    else:
        done.append("rate limiting off (no X-RateLimit-* headers), 429 not checked")
    return done


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(f"usage: {argv[0]} BASE_URL", file=sys.stderr)
        return 2
    try:
        with httpx.Client(timeout=10.0) as client:
            done = verify(argv[1], client)
    except CheckFailedError as exc:
        print(f"FAIL: {exc}")
        return 1
    except (httpx.HTTPError, ValueError, KeyError) as exc:
        print(f"FAIL: {type(exc).__name__}: {exc}")
        return 1
    print("OK: " + "; ".join(done))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
