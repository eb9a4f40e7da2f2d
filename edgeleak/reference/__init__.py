"""Reference interpreters the firmware is checked against: TFLite Micro (bit-exact target) and LiteRT."""
