"""Compare a build's flash and RAM use with a board's budget (pure)."""

from __future__ import annotations

from dataclasses import dataclass

from edgeleak.boards.config import Board


@dataclass(frozen=True)
class BudgetReport:
    board: str
    flash_used: int
    flash_budget: int
    ram_used: int
    ram_budget: int
    estimated: bool  # True before linking (model bytes only), False from a linked image

    @property
    def fits(self) -> bool:
        return self.flash_used <= self.flash_budget and self.ram_used <= self.ram_budget

    def lines(self) -> list[str]:
        kind = "estimate (model only)" if self.estimated else "linked image"
        return [
            f"{self.board} budget, {kind}:",
            f"  flash {self.flash_used:>9,} B of {self.flash_budget:>9,} B ({100 * self.flash_used / self.flash_budget:5.1f}%)",
            f"  RAM   {self.ram_used:>9,} B of {self.ram_budget:>9,} B ({100 * self.ram_used / self.ram_budget:5.1f}%)",
        ]

    def problem(self) -> str | None:
        """One line naming what does not fit, or None."""
        over = []
        if self.flash_used > self.flash_budget:
            over.append(f"flash {self.flash_used:,} B > {self.flash_budget:,} B")
        if self.ram_used > self.ram_budget:
            over.append(f"RAM {self.ram_used:,} B > {self.ram_budget:,} B")
        if not over:
            return None
        return f"the model does not fit {self.board}: {', '.join(over)}; use a smaller model or a bigger board"


def estimate_model_budget(board: Board, artifact_bytes: int, arena_bytes: int) -> BudgetReport:
    return BudgetReport(board.name, artifact_bytes, board.flash_bytes, arena_bytes, board.ram_bytes, estimated=True)
