"""Logs, metrics and the per-request context they share."""
