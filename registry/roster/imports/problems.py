"""What is wrong with an imported file: a row, a column and a message an officer can act on."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from openpyxl.utils import get_column_letter


@dataclass(frozen=True)
class Problem:
    """One error or warning; `row` is the spreadsheet row (header = 1), `col` 0-based or None."""

    row: int | None
    col: int | None
    field: str | None
    message: str
    header: str | None = None

    @property
    def column(self) -> str | None:
        """Name the column the way a spreadsheet user sees it: C列（统一社会信用代码）."""
        if self.col is None:
            return f"「{self.header}」列" if self.header else None
        letter = get_column_letter(self.col + 1)
        return f"{letter}列（{self.header}）" if self.header else f"{letter}列"

    def where(self) -> str:
        """Say where the problem is: 第5行 C列（统一社会信用代码）."""
        parts = [f"第{self.row}行"] if self.row else ["文件"]
        if self.column:
            parts.append(self.column)
        return " ".join(parts)

    def describe(self) -> str:
        """Return the one-line description the CLI prints and the error workbook shows."""
        return f"{self.where()}：{self.message}"

    def as_json(self) -> dict[str, Any]:
        """Return the entry stored in ImportRun.errors: {row, column, field, message}."""
        return {"row": self.row, "column": self.column, "field": self.field, "message": self.message}


class FileProblem(Exception):
    """The file as a whole cannot be read (wrong type, corrupt, empty, too big)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
