"""The leakage study: sweep on-device defenses, attack every capture, account for privacy, report."""
