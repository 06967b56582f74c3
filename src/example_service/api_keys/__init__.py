"""API keys: a user's long-lived credentials for machines, sent as `X-API-Key`."""
