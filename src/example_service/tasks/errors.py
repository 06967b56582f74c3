"""What a task raises to say how its failure should be handled."""

from __future__ import annotations


class RetryableTaskError(Exception):
    """Raised by a task whose failure may pass if it runs again later (then retried with
    backoff, up to TASKS_MAX_RETRIES or the task's `retries`)."""
