"""Classed colours for KPI maps (the page and the PDF use the same classes, so they agree)."""

from __future__ import annotations

import numpy as np

# Red (bad) → green (good), ColorBrewer RdYlGn; a region with no data is grey.
BAD_TO_GOOD = ["#d7191c", "#fdae61", "#ffffbf", "#a6d96a", "#1a9641"]
NO_DATA = "#d9d9d9"


def breaks(values: list[float], k: int = 5) -> list[float]:
    """Upper class breaks by quantiles (fewer classes when values repeat)."""
    if not values:
        return []
    return sorted(set(np.quantile(values, np.linspace(0, 1, k + 1)[1:]).round(6).tolist()))


def legend(values: list[float], direction: str) -> list[dict]:
    """Classes ``[{from, to, color}]`` low to high, coloured so that the good end is green."""
    ups = breaks(values)
    if not ups:
        return []
    ramp = BAD_TO_GOOD if direction == "up" else BAD_TO_GOOD[::-1]
    n = len(ups)
    # one class only (every region the same): neutral, neither good nor bad
    colours = [ramp[round(i * (len(ramp) - 1) / (n - 1))] for i in range(n)] if n > 1 else [ramp[2]]
    lows = [min(values)] + ups[:-1]
    return [{"from": lo, "to": hi, "color": c} for lo, hi, c in zip(lows, ups, colours, strict=True)]


def colour(value: float | None, classes: list[dict]) -> str:
    """The class colour of a value (grey for no data)."""
    if value is None or not classes:
        return NO_DATA
    for c in classes:
        if value <= c["to"]:
            return c["color"]
    return classes[-1]["color"]


def label(c: dict, unit: str) -> str:
    """A legend entry: "a – b unit", or just "a unit" when a class holds one value."""
    sep = "" if unit == "%" else " "
    if c["from"] == c["to"]:
        return f"{c['to']:.1f}{sep}{unit}"
    return f"{c['from']:.1f} – {c['to']:.1f}{sep}{unit}"
