"""Authentication (passwords, JWT access/refresh tokens, API keys) and authorization (RBAC)."""
