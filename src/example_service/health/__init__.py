"""Health probes: liveness, readiness (dependency checks) and startup."""
