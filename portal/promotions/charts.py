"""Geometry of the server-drawn SVG charts: templates place the shapes, this module does the arithmetic."""
from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

WIDTH = 640


def _num(value: Any) -> float:
    return float(value) if value is not None else 0.0


def bars(rows: Sequence[tuple[str, Any]], width: int = WIDTH, label_width: int = 250, row_height: int = 30) -> dict:
    """Horizontal bars: a label, a bar scaled to the largest value, the value at the bar's end."""
    largest = max((_num(value) for _, value in rows), default=0.0) or 1.0
    span = width - label_width - 60
    items = []
    for index, (label, value) in enumerate(rows):
        items.append({"label": label, "value": value, "y": index * row_height,
                      "width": round(span * _num(value) / largest, 1)})
    return {"items": items, "width": width, "height": max(len(rows), 1) * row_height, "x0": label_width,
            "row_height": row_height}


def columns(rows: Sequence[tuple[str, Any]], width: int = WIDTH, height: int = 220) -> dict:
    """Vertical bars (a histogram): one column per bin, its count above, its label below."""
    plot_height = height - 40
    largest = max((_num(value) for _, value in rows), default=0.0) or 1.0
    step = width / max(len(rows), 1)
    items = []
    for index, (label, value) in enumerate(rows):
        bar_height = round(plot_height * _num(value) / largest, 1)
        items.append({"label": label, "value": value, "x": round(index * step + 2, 1), "width": round(step - 4, 1),
                      "y": round(20 + plot_height - bar_height, 1), "height": bar_height,
                      "centre": round(index * step + step / 2, 1)})
    return {"items": items, "width": width, "height": height, "base": 20 + plot_height}


def line(points: Sequence[tuple[str, Any]], width: int = WIDTH, height: int = 240, low: int = 0,
         high: int = 100) -> dict:
    """A line over a 0–100 scale: one point per cycle, gaps where a value is missing."""
    left, right, top, bottom = 36, 12, 12, 40
    plot_width, plot_height = width - left - right, height - top - bottom
    step = plot_width / max(len(points) - 1, 1)

    def y_of(value: Any) -> float:
        return round(top + plot_height * (1 - (_num(value) - low) / (high - low)), 1)

    dots, segments, current = [], [], []
    for index, (label, value) in enumerate(points):
        x = round(left + (index * step if len(points) > 1 else plot_width / 2), 1)
        dots.append({"label": label, "value": value, "x": x, "y": y_of(value) if value is not None else None})
        if value is None:
            if len(current) > 1:
                segments.append(" ".join(current))
            current = []
        else:
            current.append(f"{x},{y_of(value)}")
    if len(current) > 1:
        segments.append(" ".join(current))
    ticks = [{"value": tick, "y": y_of(tick)} for tick in range(low, high + 1, 20)]
    return {"dots": dots, "segments": segments, "ticks": ticks, "width": width, "height": height, "left": left,
            "right": width - right, "bottom": top + plot_height}


def boxes(rows: Sequence[dict], width: int = WIDTH, label_width: int = 200, row_height: int = 34) -> dict:
    """Box plots on a 0–100 scale: quartile box, median line, mean dot, one row per group."""
    span = width - label_width - 10

    def x_of(value: Decimal | None) -> float | None:
        return None if value is None else round(label_width + span * _num(value) / 100, 1)

    items = []
    for index, row in enumerate(rows):
        items.append({**row, "y": index * row_height, "q1_x": x_of(row.get("q1")), "median_x": x_of(row.get("median")),
                      "q3_x": x_of(row.get("q3")), "mean_x": x_of(row.get("mean")),
                      "min_x": x_of(row.get("min")), "max_x": x_of(row.get("max"))})
    ticks = [{"value": tick, "x": x_of(Decimal(tick))} for tick in range(0, 101, 20)]
    return {"items": items, "width": width, "height": max(len(rows), 1) * row_height + 20, "ticks": ticks,
            "row_height": row_height, "x0": label_width}
