"""Check one batch of rows: every problem becomes a ``Problem``; good rows come back typed.

Checks are column-wise (pandas/numpy) so a million rows validate in seconds: required fields,
the USCC check character (GB 32100, vectorised; the message comes from ``data.ids.uscc_error``),
duplicates within the file, category (code or Chinese/English name), risk class A–D, dates,
resident ID numbers, and coordinates: present, numeric, finite, in range, and longitude/latitude
swapped (reported, never silently fixed). Whether a point lies inside the loaded boundaries is
decided in PostGIS when the batch is staged (``entities``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from data.ids import USCC_ALPHABET, is_valid_id_number, uscc_error
from data.imports.columns import LABELS, OPTIONAL, REQUIRED
from data.imports.coords import SourceCrs, to_wgs84
from data.imports.readers import Batch
from data.imports.report import Problem

DATE_FIELDS = ("licence_valid_until", "registered_on")
CHINA = (73.0, 136.0, 3.0, 54.0)  # lon/lat box around China, for the swapped-axes test
_WEIGHTS = np.array([1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28], dtype=np.int64)
_VALUE = np.full(256, -1, dtype=np.int64)
_VALUE[np.frombuffer(USCC_ALPHABET.encode(), dtype=np.uint8)] = np.arange(len(USCC_ALPHABET))


@dataclass
class Checked:
    """The rows that passed, typed and in WGS 84, and the problems of the rest."""

    good: pd.DataFrame
    problems: list[Problem]


def valid_uscc(codes: pd.Series) -> np.ndarray:
    """Vectorised GB 32100 check: True where the code has 18 legal characters and a right check."""
    text = codes.fillna("").astype(str)
    ok = (text.str.len() == 18).to_numpy() & text.map(str.isascii).to_numpy()
    out = np.zeros(len(text), dtype=bool)
    if ok.any():
        raw = np.frombuffer("".join(text[ok]).encode("ascii"), dtype=np.uint8).reshape(-1, 18)
        values = _VALUE[raw]
        legal = (values >= 0).all(axis=1)
        check = (31 - (values[:, :17] @ _WEIGHTS) % 31) % 31
        out[np.flatnonzero(ok)] = legal & (check == values[:, 17])
    return out


class _Collector:
    """Problems of one batch, and a mask of the rows that have any."""

    def __init__(self, batch: Batch, headers: dict[str, str]) -> None:
        self.rows, self.headers = batch.rows, headers
        self.bad = np.zeros(len(batch.rows), dtype=bool)
        self.problems: list[Problem] = []

    def add(self, positions: np.ndarray | list[int], field: str, values: object, reason) -> None:
        for i in np.asarray(positions, dtype=np.int64):
            value = values[i] if values is not None else None
            text = "" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)
            message = reason(text) if callable(reason) else reason
            self.problems.append(Problem(int(self.rows[i]), self.headers.get(field, field), text, message))
            self.bad[i] = True


def check_batch(batch: Batch, mapping: dict[str, str], categories: dict[str, str], source: SourceCrs,
                seen: dict[str, int]) -> Checked:
    """Validate ``batch`` (columns renamed to fields by ``mapping``) and return good rows + problems."""
    frame = batch.frame.rename(columns={h: f for f, h in mapping.items()})
    frame = frame.loc[:, ~frame.columns.duplicated()]
    out = _Collector(batch, mapping)
    for field in REQUIRED:
        col = frame[field].to_numpy(dtype=object)
        out.add(np.flatnonzero(pd.isna(col)), field, col,
                f"缺少必填项：{LABELS[field]} / missing required value")
    _check_uscc(frame, out, seen)
    _check_codes(frame, out, categories)
    _check_optional(frame, out)
    lon, lat = _check_coordinates(frame, batch, mapping, source, out)
    good = frame.loc[~out.bad, [f for f in (*REQUIRED, *OPTIONAL) if f in mapping]].copy()
    good["lon"], good["lat"] = lon[~out.bad], lat[~out.bad]
    good.insert(0, "row_no", batch.rows[~out.bad])
    return Checked(good.reset_index(drop=True), out.problems)


def _check_uscc(frame: pd.DataFrame, out: _Collector, seen: dict[str, int]) -> None:
    raw = frame["uscc"].to_numpy(dtype=object)
    codes = frame["uscc"].str.upper()
    frame["uscc"] = codes
    ok = valid_uscc(codes)
    wrong = np.flatnonzero(~ok & codes.notna().to_numpy())
    out.add(wrong, "uscc", raw,
            lambda v: f"统一社会信用代码无效：{uscc_error(v.upper())} / invalid USCC")
    duplicates = []
    for i in np.flatnonzero(ok):
        code = codes.iat[i]
        first = seen.setdefault(code, int(out.rows[i]))
        if first != out.rows[i]:
            duplicates.append((i, first))
    for i, first in duplicates:
        out.add([i], "uscc", raw,
                f"文件内统一社会信用代码重复（首次出现在第 {first} 行）/ duplicate USCC in the file")


def _check_codes(frame: pd.DataFrame, out: _Collector, categories: dict[str, str]) -> None:
    raw = frame["category"].to_numpy(dtype=object)
    codes = frame["category"].str.strip().str.lower().map(categories)
    unknown = np.flatnonzero(codes.isna().to_numpy() & frame["category"].notna().to_numpy())
    names = "、".join(sorted({v for k, v in categories.items() if not k.isascii()} or categories))
    out.add(unknown, "category", raw, f"未知类别，应为：{names} / unknown category")
    frame["category"] = codes
    risk_raw = frame["risk_class"].to_numpy(dtype=object)
    risk = frame["risk_class"].str.upper().str.replace(r"[\s级类]", "", regex=True)
    wrong = np.flatnonzero(~risk.isin(list("ABCD")).to_numpy() & frame["risk_class"].notna().to_numpy())
    out.add(wrong, "risk_class", risk_raw, "风险等级应为 A、B、C、D 之一 / risk class must be A–D")
    frame["risk_class"] = risk


def _check_optional(frame: pd.DataFrame, out: _Collector) -> None:
    for field in DATE_FIELDS:
        if field not in frame:
            continue
        raw = frame[field].to_numpy(dtype=object)
        parsed = pd.to_datetime(frame[field], errors="coerce", format="mixed")
        wrong = np.flatnonzero(parsed.isna().to_numpy() & frame[field].notna().to_numpy())
        out.add(wrong, field, raw, "日期无效，应为 YYYY-MM-DD / invalid date")
        frame[field] = parsed.dt.strftime("%Y-%m-%d").where(parsed.notna(), None)
    if "legal_rep_id" in frame:
        raw = frame["legal_rep_id"].to_numpy(dtype=object)
        wrong = [i for i, v in enumerate(raw) if v is not None and not is_valid_id_number(str(v).upper())]
        out.add(wrong, "legal_rep_id", raw, "居民身份证号无效（校验位或格式错误）/ invalid ID number")
        frame["legal_rep_id"] = frame["legal_rep_id"].str.upper()


def _numbers(frame: pd.DataFrame, field: str) -> tuple[np.ndarray, np.ndarray]:
    raw = frame[field].to_numpy(dtype=object) if field in frame else np.full(len(frame), None, dtype=object)
    return raw, pd.to_numeric(pd.Series(raw), errors="coerce").to_numpy(dtype=np.float64)


def _check_coordinates(frame: pd.DataFrame, batch: Batch, mapping: dict[str, str], source: SourceCrs,
                       out: _Collector) -> tuple[np.ndarray, np.ndarray]:
    """WGS 84 lon/lat; problems for missing, non-numeric, infinite, out-of-range or swapped values."""
    raw_x, x = _numbers(frame, "lon")
    raw_y, y = _numbers(frame, "lat")
    from_geometry = np.zeros(len(x), dtype=bool)
    if batch.x is not None:
        from_geometry = ~np.isnan(batch.x)
        x, y = np.where(from_geometry, batch.x, x), np.where(from_geometry, batch.y, y)
        raw_x = np.where(from_geometry, batch.x, raw_x)
        raw_y = np.where(from_geometry, batch.y, raw_y)
    not_point = np.zeros(len(x), dtype=bool)
    for i, reason in (batch.geometry_problems or {}).items():
        out.add([i], "geometry", None, reason)
        not_point[i] = True
    missing_x, missing_y = pd.isna(raw_x), pd.isna(raw_y)
    for field, raw, missing in (("lon", raw_x, missing_x), ("lat", raw_y, missing_y)):
        out.add(np.flatnonzero(missing & ~not_point), field, raw,
                f"缺少坐标：{LABELS[field]} / missing coordinate")
    for field, raw, value, missing in (("lon", raw_x, x, missing_x), ("lat", raw_y, y, missing_y)):
        nan = np.flatnonzero(np.isnan(value) & ~missing)
        out.add(nan, field, raw, "坐标不是数字 / coordinate is not a number")
        inf = np.flatnonzero(np.isinf(value))
        out.add(inf, field, raw, "坐标不是有限数 / coordinate is not finite")
    usable = np.isfinite(x) & np.isfinite(y)
    if source.geographic:
        west, east, south, north = CHINA
        inside = (x >= west) & (x <= east) & (y >= south) & (y <= north)
        swapped = usable & ~inside & (y >= west) & (y <= east) & (x >= south) & (x <= north)
        out.add(np.flatnonzero(swapped), "lon", raw_x,
                lambda v: f"经纬度疑似颠倒（经度 {v}）/ longitude and latitude look swapped")
        wild = usable & ~swapped & ((np.abs(x) > 180) | (np.abs(y) > 90))
        out.add(np.flatnonzero(wild), "lon", raw_x,
                "坐标超出经纬度范围（投影坐标请用 --crs 指定坐标系）/ coordinate out of range")
    lon, lat = np.full(len(x), np.nan), np.full(len(x), np.nan)
    convert = usable & ~out.bad
    if convert.any():
        lon[convert], lat[convert] = to_wgs84(x[convert], y[convert], source)
    failed = np.flatnonzero(convert & ~(np.isfinite(lon) & np.isfinite(lat)))
    out.add(failed, "lon", raw_x, "坐标无法转换到 WGS 84 / coordinate cannot be transformed")
    return lon, lat
