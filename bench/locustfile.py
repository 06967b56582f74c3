"""A realistic mix against a running stack (nginx in front, or one instance), with Locust.

    locust -f bench/locustfile.py --headless --host http://127.0.0.1:8080 \\
        --users 20 --spawn-rate 5 --run-time 1m --csv var/locust --exit-code-on-error 1

Members register, log in, read and update themselves, refresh their tokens and walk the error
paths a real client meets (a wrong password, a missing token, a forbidden list, someone else's
user, an invalid registration); an administrator (LOCUST_ADMIN_EMAIL, LOCUST_ADMIN_PASSWORD:
create one with `example-service users create-admin`) lists users. An error path's expected
status counts as a success, anything else as a failure; the run reports failures and latency
percentiles (per request name, and in `--csv` files).

Run it against a stack whose global rate limit (RATE_LIMIT_REQUESTS, per client address) is
above the load, or every client behind one address is refused with 429s, which fail here.
"""

from __future__ import annotations

import os
import uuid
from typing import Any

from locust import HttpUser, between, task

PASSWORD = "locust-password-1"  # noqa: S105 - the load test's own accounts
API = "/api/v1"


class _Session(HttpUser):
    abstract = True
    wait_time = between(0.05, 0.3)
    access = ""
    refresh_token = ""

    def _login(self, email: str, password: str) -> None:
        with self.client.post(
            f"{API}/auth/login",
            json={"email": email, "password": password},
            name="login",
            catch_response=True,
        ) as response:
            if response.status_code != 200:
                response.failure(f"login: {response.status_code}")
                return
            body = response.json()
        self.access = body["access_token"]
        self.refresh_token = body["refresh_token"]

    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access}"}

    def _expect(self, status: int, method: str, path: str, name: str, **kwargs: Any) -> None:
        with self.client.request(
            method, path, name=name, catch_response=True, **kwargs
        ) as response:
            if response.status_code == status:
                response.success()  # an expected error is the right answer
            else:
                response.failure(f"expected {status}, got {response.status_code}")


class Member(_Session):
    weight = 9

    def on_start(self) -> None:
        self.email = f"locust-{uuid.uuid4().hex}@example.com"
        self._expect(
            201,
            "POST",
            f"{API}/users",
            "register",
            json={"email": self.email, "password": PASSWORD},
        )
        self._login(self.email, PASSWORD)
        me = self.client.get(f"{API}/users/me", headers=self._auth(), name="me")
        self.user_id = me.json()["id"] if me.status_code == 200 else str(uuid.uuid4())

    @task(10)
    def me(self) -> None:
        self.client.get(f"{API}/users/me", headers=self._auth(), name="me")

    @task(4)
    def read_own(self) -> None:
        self.client.get(f"{API}/users/{self.user_id}", headers=self._auth(), name="read own")

    @task(2)
    def update_own(self) -> None:
        self.client.patch(
            f"{API}/users/{self.user_id}",
            headers=self._auth(),
            json={"full_name": f"Member {uuid.uuid4().hex[:6]}"},
            name="update own",
        )

    @task(1)
    def refresh(self) -> None:
        with self.client.post(
            f"{API}/auth/refresh",
            json={"refresh_token": self.refresh_token},
            name="refresh",
            catch_response=True,
        ) as response:
            if response.status_code == 200:
                body = response.json()
                self.access, self.refresh_token = body["access_token"], body["refresh_token"]
            else:
                response.failure(f"refresh: {response.status_code}")

    @task(1)
    def wrong_password(self) -> None:
        # An unknown account each time: the per-account login limit never comes into play.
        self._expect(
            401,
            "POST",
            f"{API}/auth/login",
            "login wrong password",
            json={"email": f"nobody-{uuid.uuid4().hex}@example.com", "password": "wrong-one"},
        )

    @task(1)
    def no_token(self) -> None:
        self._expect(401, "GET", f"{API}/users/me", "me without token")

    @task(1)
    def list_as_member(self) -> None:
        self._expect(403, "GET", f"{API}/users", "list users as member", headers=self._auth())

    @task(1)
    def someone_else(self) -> None:
        path = f"{API}/users/{uuid.uuid4()}"
        self._expect(404, "GET", path, "read another user", headers=self._auth())

    @task(1)
    def invalid_registration(self) -> None:
        body = {"email": "not-an-email", "password": PASSWORD}
        self._expect(422, "POST", f"{API}/users", "register invalid", json=body)


class Admin(_Session):
    weight = 1
    fixed_count = 1  # one administrator session, whatever the number of users

    def on_start(self) -> None:
        email = os.environ.get("LOCUST_ADMIN_EMAIL", "")
        password = os.environ.get("LOCUST_ADMIN_PASSWORD", "")
        if not email:
            self.stop()
            return
        self._login(email, password)

    @task
    def list_users(self) -> None:
        self.client.get(f"{API}/users?limit=20", headers=self._auth(), name="list users")
