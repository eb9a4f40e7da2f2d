"""Formal privacy of the on-device defenses: (ε, δ) accounting and bounds on reconstruction success."""
