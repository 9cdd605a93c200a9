"""What an import found: each bad row's problem (row number, column, value, reason) and the counts.

Reasons are Chinese first, English after " / ", like every message of the product. The report CSV is
written with a BOM so that Excel on a Chinese Windows opens it as UTF-8.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

REPORT_HEADER = ("行号 row", "列 column", "值 value", "原因 reason")


@dataclass(frozen=True)
class Problem:
    """One reason one row was not loaded (a row may have several)."""

    row: int
    column: str
    value: str
    reason: str


@dataclass
class ImportSummary:
    """Counts of one import, plus every problem found."""

    read: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    problems: list[Problem] = field(default_factory=list)
    dry_run: bool = False

    @property
    def rejected(self) -> int:
        """Rows with at least one problem (a row is counted once)."""
        return len({p.row for p in self.problems})

    def counts(self) -> dict[str, int]:
        """The five counts the summary prints."""
        return {"read": self.read, "inserted": self.inserted, "updated": self.updated,
                "unchanged": self.unchanged, "rejected": self.rejected}

    def text(self) -> str:
        """One line for a terminal or a page."""
        prefix = "试运行（未写入）dry run, nothing written: " if self.dry_run else ""
        return (f"{prefix}读取 read {self.read}，新增 inserted {self.inserted}，更新 updated "
                f"{self.updated}，未变 unchanged {self.unchanged}，拒绝 rejected {self.rejected}")


def write_report(problems: list[Problem], path: Path | str) -> Path:
    """Write the problems as CSV (row, column, value, reason), sorted by row number."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(REPORT_HEADER)
        for p in sorted(problems, key=lambda p: (p.row, p.column)):
            writer.writerow((p.row, p.column, p.value, p.reason))
    return target
