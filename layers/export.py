"""Turn selected rows into CSV (UTF-8 with BOM, so Excel opens Chinese correctly) or XLSX (openpyxl)."""

from __future__ import annotations

import csv
import io

from openpyxl import Workbook

from layers.registry import Layer


def _header(layer: Layer, columns: list[str]) -> list[str]:
    extra = {"lon": "经度", "lat": "纬度"}
    return [extra.get(c) or layer.label(c) for c in columns]


def to_csv(layer: Layer, rows: list[dict]) -> bytes:
    """CSV bytes with a header of Chinese field labels."""
    columns = list(rows[0]) if rows else list(layer.fields)
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(_header(layer, columns))
    for row in rows:
        writer.writerow(["" if row.get(c) is None else row.get(c) for c in columns])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def to_xlsx(layer: Layer, rows: list[dict]) -> bytes:
    """An Excel workbook with one sheet named after the layer."""
    columns = list(rows[0]) if rows else list(layer.fields)
    book = Workbook()
    sheet = book.active
    sheet.title = layer.title_zh[:31]
    sheet.append(_header(layer, columns))
    for row in rows:
        sheet.append([row.get(c) if not hasattr(row.get(c), "isoformat") else str(row.get(c))
                      for c in columns])
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()
