"""Attacks of an honest-but-curious server on captured updates, looked up by name (one module each)."""

from edgeleak.attacks.base import ATTACKS, Attack, AttackInput, Reconstruction, get_attack, register

__all__ = ["ATTACKS", "Attack", "AttackInput", "Reconstruction", "get_attack", "register"]
