"""Users: registration, profile, administration."""
