"""The capture store: every update a server received, with its metadata, in an append-only, crash-safe file."""
