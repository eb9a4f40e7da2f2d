"""Federated rounds driven by the host: the server sends weights and samples, devices train, the server aggregates."""
