"""Board definitions from boards.yaml, validated against a schema."""

from edgeleak.boards.config import Board, BoardSet, load_boards

__all__ = ["Board", "BoardSet", "load_boards"]
