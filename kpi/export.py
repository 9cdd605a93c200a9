"""The KPI view as an Excel workbook (openpyxl) and a one-page PDF briefing (fpdf2, CJK embedded).

Both are written from the same report body the API returns, so the numbers agree. The PDF draws
its map, ranking and trend with fpdf2's own vector primitives (no Chrome, no matplotlib): fpdf2
embeds the Noto Sans CJK collection (CFF outlines) as a subset CID font, as enforcement documents do.
"""

from __future__ import annotations

import io
import math
from datetime import datetime

from fpdf import FPDF
from fpdf.enums import WrapMode, XPos, YPos
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from geo.workdays import SHANGHAI
from kpi.classes import NO_DATA, colour, label, legend

CJK_FONT = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
CJK_INDEX = 2  # Noto Sans CJK SC inside the collection
HEADER_FILL = PatternFill("solid", fgColor="1F4E79")
HEADER_FONT = Font(bold=True, color="FFFFFF")
KIND_LABELS = {"task": "检查任务", "checkin": "签到", "case": "案件", "event": "城市事件", "alert": "报警",
               "entity": "监管对象"}


def _sheet(wb: Workbook, title: str, header: list[str], rows: list[list], formats: dict[int, str] | None = None,
           first: bool = False) -> None:
    ws = wb.active if first else wb.create_sheet()
    ws.title = title
    ws.append(header)
    for cell in ws[1]:
        cell.fill, cell.font = HEADER_FILL, HEADER_FONT
        cell.alignment = Alignment(horizontal="center", vertical="center")
    for row in rows:
        ws.append(row)
    for col, fmt in (formats or {}).items():
        for (cell,) in ws.iter_rows(min_row=2, min_col=col, max_col=col):
            cell.number_format = fmt
    for i, head in enumerate(header, start=1):
        longest = max([len(str(head)) * 2] + [len(str(r[i - 1])) for r in rows if i - 1 < len(r)] + [6])
        ws.column_dimensions[get_column_letter(i)].width = min(60, longest + 2)
    ws.freeze_panes = "A2"


def workbook(body: dict, records: list[dict]) -> bytes:
    """Sheets: 概要 (the figure), 下级区域 (children ranked), 逐日 (daily series), 明细, 定义."""
    d = body["definition"]
    wb = Workbook()
    value_fmt = "0.00"
    _sheet(wb, "概要", ["指标编号", "指标", "区域代码", "区域", "开始日期", "结束日期", "值", "单位", "分子", "分母",
                       "目标", "上期值", "较上期变化", "期末预测"],
           [[body["id"], d["name_zh"], body["region"], body["region_name"], body["from"], body["to"], body["value"],
             d["unit"], body["numerator"], body["denominator"], body["target"], body["previous"]["value"],
             body["change"], body["forecast"]["value"]]],
           {7: value_fmt, 11: value_fmt, 12: value_fmt, 13: value_fmt, 14: value_fmt}, first=True)
    _sheet(wb, "下级区域", ["排名", "区域代码", "区域", "值", "分子", "分母", "上期值", "上期排名", "排名变化"],
           [[r["rank"], r["region"], r["name"], r["value"], r["numerator"], r["denominator"], r["previous_value"],
             r["previous_rank"], r["rank_change"]] for r in body["ranking"]], {4: value_fmt, 7: value_fmt})
    _sheet(wb, "逐日", ["日期", "当日分子", "当日分母", "当日值", "累计分子", "累计分母", "累计值"],
           [[s["day"], s["numerator"], s["denominator"], s["value"], s["cum_numerator"], s["cum_denominator"],
             s["cum_value"]] for s in body["series"]], {4: value_fmt, 7: value_fmt})
    _sheet(wb, "明细", ["类型", "编号", "监管对象编号", "名称", "日期", "分子", "分母", "区县", "网格"],
           [[KIND_LABELS.get(r["kind"], r["kind"]), r["id"], r["entity_id"], r["label"], r["day"],
             float(r["numerator"]) if r["numerator"] is not None else None,
             float(r["denominator"]) if r["denominator"] is not None else None, r["district"], r["grid"]]
            for r in records])
    _sheet(wb, "定义", ["项目", "内容"], [
        ["编号", d["id"]], ["中文名称", d["name_zh"]], ["英文名称", d["name_en"]], ["含义", d["meaning_zh"]],
        ["分子", d["numerator_zh"]], ["分母", d["denominator_zh"]], ["公式", d["formula"]], ["单位", d["unit"]],
        ["方向", "越高越好" if d["direction"] == "up" else "越低越好"], ["责任部门", d["owner"]],
        ["可加", "是" if d["additive"] else "否"], ["SQL", d["sql"]]])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def fmt(value: float | None, unit: str) -> str:
    """A value for people: one decimal for rates and means, whole numbers for counts, 无数据 for none."""
    if value is None:
        return "无数据"
    if unit in ("件", "个"):
        return f"{value:,.0f} {unit}"
    return f"{value:,.1f}{unit if unit == '%' else ' ' + unit}"


def _hex(c: str) -> tuple[int, int, int]:
    c = c.lstrip("#")
    return int(c[0:2], 16), int(c[2:4], 16), int(c[4:6], 16)


class _Briefing(FPDF):
    def __init__(self) -> None:
        super().__init__(orientation="L", format="A4", unit="mm")
        self.add_font("cjk", fname=CJK_FONT, collection_font_number=CJK_INDEX)
        self.set_auto_page_break(False)
        self.set_margins(12, 10, 12)


def _rings(geometry: dict) -> list[list[list[float]]]:
    if geometry["type"] == "Polygon":
        return [geometry["coordinates"][0]]
    if geometry["type"] == "MultiPolygon":
        return [poly[0] for poly in geometry["coordinates"]]
    return []


def _draw_map(pdf: _Briefing, shapes: dict, values: dict, classes: list[dict], box: tuple[float, ...]) -> None:
    x0, y0, w, h = box
    rings = [(f["id"], r) for f in shapes["features"] for r in _rings(f["geometry"])]
    if not rings:
        pdf.set_font("cjk", size=9)
        pdf.set_xy(x0, y0 + h / 2)
        pdf.cell(w, 6, "（无下级区域图形）", align="C")
        return
    xs = [p[0] for _, r in rings for p in r]
    ys = [p[1] for _, r in rings for p in r]
    k = math.cos(math.radians((min(ys) + max(ys)) / 2))
    span_x, span_y = (max(xs) - min(xs)) * k or 1e-9, (max(ys) - min(ys)) or 1e-9
    scale = min(w / span_x, h / span_y)
    ox = x0 + (w - span_x * scale) / 2
    oy = y0 + (h - span_y * scale) / 2
    pdf.set_draw_color(255, 255, 255)
    pdf.set_line_width(0.15)
    for code, ring in rings:
        pdf.set_fill_color(*_hex(colour(values.get(code), classes)))
        pts = [(ox + (p[0] - min(xs)) * k * scale, oy + (max(ys) - p[1]) * scale) for p in ring]
        pdf.polygon(pts, style="DF")


def _draw_bars(pdf: _Briefing, ranking: list[dict], unit: str, box: tuple[float, ...]) -> None:
    x0, y0, w, h = box
    rows = [r for r in ranking if r["value"] is not None]
    if len(rows) > 12:  # best six and worst six
        rows = rows[:6] + rows[-6:]
    if not rows:
        return
    top = max(abs(r["value"]) for r in rows) or 1
    bar_h = min(6.0, h / len(rows))
    label_w = 30
    pdf.set_font("cjk", size=7)
    for i, r in enumerate(rows):
        y = y0 + i * bar_h
        pdf.set_xy(x0, y)
        pdf.cell(label_w, bar_h, f"{r['rank']}. {r['name']}"[:14])
        pdf.set_fill_color(70, 120, 180)
        length = (w - label_w - 22) * abs(r["value"]) / top
        pdf.rect(x0 + label_w, y + bar_h * 0.15, max(length, 0.2), bar_h * 0.7, style="F")
        pdf.set_xy(x0 + label_w + length + 1, y)
        pdf.cell(20, bar_h, fmt(r["value"], unit))


def _draw_trend(pdf: _Briefing, series: list[dict], target: float | None, box: tuple[float, ...]) -> None:
    x0, y0, w, h = box
    pts = [(i, s["cum_value"]) for i, s in enumerate(series) if s["cum_value"] is not None]
    pdf.set_draw_color(150, 150, 150)
    pdf.set_line_width(0.2)
    pdf.line(x0, y0 + h, x0 + w, y0 + h)
    pdf.line(x0, y0, x0, y0 + h)
    if not pts:
        return
    vals = [v for _, v in pts] + ([target] if target is not None else [])
    lo, hi = min(0.0, min(vals)), max(vals) or 1.0
    n = max(len(series) - 1, 1)

    def xy(i: float, v: float) -> tuple[float, float]:
        return x0 + w * i / n, y0 + h - h * (v - lo) / ((hi - lo) or 1)

    if target is not None:
        pdf.set_draw_color(200, 60, 60)
        pdf.set_dash_pattern(dash=1.2, gap=1)
        pdf.line(*xy(0, target), *xy(n, target))
        pdf.set_dash_pattern()
    pdf.set_draw_color(31, 78, 121)
    pdf.set_line_width(0.5)
    for (i1, v1), (i2, v2) in zip(pts, pts[1:], strict=False):
        pdf.line(*xy(i1, v1), *xy(i2, v2))
    pdf.set_font("cjk", size=7)
    pdf.set_text_color(90)
    pdf.set_xy(x0, y0 + h + 0.5)
    pdf.cell(w / 2, 4, series[0]["day"])
    pdf.cell(w / 2, 4, series[-1]["day"], align="R")
    pdf.set_xy(x0 - 11, y0 - 2)
    pdf.cell(10, 4, f"{hi:.0f}", align="R")
    pdf.set_text_color(0)


def briefing_pdf(body: dict, shapes: dict) -> bytes:
    """One A4 landscape page: headline figures, the classed map, ranking bars, the trend, the formula."""
    d = body["definition"]
    unit = d["unit"]
    pdf = _Briefing()
    pdf.add_page()
    pdf.set_font("cjk", size=16)
    pdf.cell(0, 9, f"{d['name_zh']} · {body['region_name']}（{body['region']}）", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("cjk", size=9)
    pdf.set_text_color(90)
    now = datetime.now(SHANGHAI).strftime("%Y-%m-%d %H:%M")
    pdf.cell(0, 5, f"统计期 {body['from']} 至 {body['to']}　上期 {body['previous']['from']} 至 {body['previous']['to']}"
                   f"　生成于 {now}（北京时间）", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_text_color(0)
    figures = [("当前值", fmt(body["value"], unit)),
               ("分子 / 分母", f"{_n(body['numerator'])} / {_n(body['denominator'])}"),
               ("目标", fmt(body["target"], unit) if body["target"] is not None else "未设定"),
               ("较上期", "无数据" if body["change"] is None else f"{body['change']:+.1f}"),
               ("期末预测", fmt(body["forecast"]["value"], unit))]
    y = pdf.get_y() + 2
    for i, (title, text) in enumerate(figures):
        x = 12 + i * 55
        pdf.set_fill_color(240, 244, 248)
        pdf.rect(x, y, 52, 16, style="F")
        pdf.set_xy(x + 2, y + 1)
        pdf.set_font("cjk", size=8)
        pdf.cell(48, 5, title)
        pdf.set_xy(x + 2, y + 6)
        pdf.set_font("cjk", size=13)
        pdf.cell(48, 8, text)
    top = y + 20
    values = {c["region"]: c["value"] for c in body["children"] if c["region"]}
    classes = legend([v for v in values.values() if v is not None], d["direction"])
    pdf.set_font("cjk", size=10)
    pdf.set_xy(12, top)
    pdf.cell(130, 6, "分区图（下级区域）")
    _draw_map(pdf, shapes, values, classes, (12, top + 7, 130, 118))
    ly = top + 7
    pdf.set_font("cjk", size=7)
    for c in [*classes, {"from": None, "to": None, "color": NO_DATA}]:
        pdf.set_fill_color(*_hex(c["color"]))
        pdf.rect(144, ly, 4, 3, style="F")
        pdf.set_xy(149, ly - 0.5)
        pdf.cell(30, 4, "无数据" if c["from"] is None else label(c, unit))
        ly += 4.5
    pdf.set_font("cjk", size=10)
    pdf.set_xy(180, top)
    pdf.cell(100, 6, "排名（最好与最差）")
    _draw_bars(pdf, body["ranking"], unit, (180, top + 7, 105, 66))
    pdf.set_font("cjk", size=10)
    pdf.set_xy(180, top + 76)
    pdf.cell(100, 6, "累计值走势（虚线为目标）")
    _draw_trend(pdf, body["series"], body["target"], (192, top + 84, 93, 34))
    pdf.set_xy(12, 188)
    pdf.set_font("cjk", size=7.5)
    pdf.set_text_color(70)
    pdf.multi_cell(273, 3.8, f"定义：{d['meaning_zh']}　分子：{d['numerator_zh']}；分母：{d['denominator_zh']}；"
                              f"公式：{d['formula']}；责任部门：{d['owner']}。", wrapmode=WrapMode.CHAR)
    return bytes(pdf.output())


def _n(x: float | None) -> str:
    return "—" if x is None else f"{x:,.0f}" if float(x).is_integer() else f"{x:,.2f}"
