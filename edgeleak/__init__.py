"""edgeleak: measure what on-device learning updates leak, and what on-device defenses buy back."""

__version__ = "0.1.0"
