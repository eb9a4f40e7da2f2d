"""Scoring of reconstructions against the ground truth (separate from the attacks, which never see it)."""
