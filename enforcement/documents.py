"""Enforcement documents as PDF: 现场检查笔录 (inspection record) and 责令改正通知书 (rectification notice).

fpdf2 embeds the Debian Noto Sans CJK collection (a CFF-based .ttc) as a subset CID font
(``pdffonts``: CID Type 0C, emb yes, uni yes), so the Chinese text shows without tofu and extracts
with ``pdftotext``; reportlab embeds TrueType outlines only and WeasyPrint needs Pango.

A document is made from a content dict; its ``source_hash`` (SHA-256 of that content) decides
whether the latest stored version still stands: the same request twice serves the same stored PDF,
and a changed case makes a new version under the same document number. A number (穗天市监检〔2026〕
12号) is minted once per case and kind from a per-district, per-year, per-kind sequence. Documents
are append-only rows; each new PDF's SHA-256 and SM3 go into the case's hash chain.
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import psycopg2.extensions
from fpdf import FPDF
from fpdf.enums import WrapMode, XPos, YPos

from accounts.roles import Principal
from enforcement import case_chain
from enforcement.cases import SHANGHAI, chain_key, load_case, office_prefix, today
from enforcement.chain import append_link, canonical
from enforcement.sitemap import CJK_FONT, CJK_INDEX, render_site_map
from geo.errors import NotFound
from geo.workdays import from_db

KINDS = {"inspection-record": ("现场检查笔录", "检"), "rectification-notice": ("责令改正通知书", "责改")}
RECTIFY_WORKDAYS = 10  # 责令改正 period: ten working days from 立案 (a common default; adjust per case law)
KIND_LABELS = {"photo": "照片", "video": "视频", "audio": "录音", "document": "书证", "note": "笔记"}
FLAG_LABELS = {"no_exif_gps": "照片无 GPS", "no_exif_time": "照片无拍摄时间", "no_gps_fix": "无定位",
               "exif_far_from_entity": "拍摄地点远离对象", "exif_time_mismatch": "拍摄时间不符"}

ENTITY_SQL = """
SELECT e.name, e.uscc, e.address, e.legal_rep_name, c.name_zh AS category, d.name AS district,
       (SELECT name FROM admin_areas WHERE level = 'city' AND adcode = left(e.district_adcode, 4) || '00') AS city
FROM entities e JOIN entity_categories c ON c.code = e.category
LEFT JOIN admin_areas d ON d.level = 'district' AND d.adcode = e.district_adcode
WHERE e.id = %s
"""
CHECKIN_SQL = """
SELECT to_char(server_time AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI') AS at,
       round(distance_m::numeric, 1) AS distance_m, on_site, username
FROM checkins WHERE task_id = %s ORDER BY on_site DESC, server_time LIMIT 1
"""
RESULT_SQL = """
SELECT result, findings, username, to_char(recorded_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI')
FROM task_results WHERE task_id = %s
"""
EVIDENCE_SQL = """
SELECT v.id, v.kind, trim(v.sha256) AS sha256, trim(v.sm3) AS sm3, v.flags,
       to_char(v.received_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI') AS received_at
FROM evidence v
WHERE v.case_id = %(id)s OR v.id IN (SELECT evidence_id FROM case_evidence WHERE case_id = %(id)s)
ORDER BY v.received_at, v.id
"""
OFFICERS_SQL = "SELECT username, display_name FROM users WHERE username = ANY (%s) ORDER BY username"
LATEST_SQL = """
SELECT id, number, year, seq, version, trim(source_hash), trim(sha256), path
FROM case_documents WHERE case_id = %s AND kind = %s ORDER BY version DESC LIMIT 1
"""
NEXT_SEQ = "SELECT coalesce(max(seq), 0) + 1 FROM case_documents WHERE district_adcode = %s AND year = %s AND kind = %s"
INSERT_DOC = """
INSERT INTO case_documents (case_id, kind, number, year, seq, version, source_hash, sha256, sm3, size, path,
                            username, district_adcode)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id
"""


@dataclass(frozen=True)
class Document:
    """A stored document: its row facts and where the bytes are."""

    id: int
    kind: str
    number: str
    version: int
    sha256: str
    path: Path
    created: bool


def check_kind(kind: str) -> str:
    """A known document kind, or a 404 naming the known ones."""
    if kind not in KINDS:
        raise NotFound(f"未知文书类型：{kind!r}，可用：{'、'.join(KINDS)} / unknown document kind")
    return kind


def _one(cur: psycopg2.extensions.cursor) -> dict | None:
    row = cur.fetchone()
    return None if row is None else dict(zip([c.name for c in cur.description], row, strict=True))


def gather(conn: psycopg2.extensions.connection, case_id: int, kind: str) -> dict:
    """Everything a document shows, as plain values (its hash decides whether to make a new version)."""
    case = load_case(conn, case_id)
    with conn.cursor() as cur:
        cur.execute(ENTITY_SQL, (case["entity_id"],))
        entity = _one(cur)
        checkin = result = None
        if case["task_id"]:
            cur.execute(CHECKIN_SQL, (case["task_id"],))
            checkin = _one(cur)
            cur.execute(RESULT_SQL, (case["task_id"],))
            r = cur.fetchone()
            result = {"result": r[0], "findings": r[1], "username": r[2], "at": r[3]} if r else None
        cur.execute(EVIDENCE_SQL, {"id": case_id})
        evidence = [{**dict(zip([c.name for c in cur.description], row, strict=True))} for row in cur.fetchall()]
        cur.execute(OFFICERS_SQL, (list(case["officers"] or []),))
        officers = [f"{d or u}（{u}）" for u, d in cur.fetchall()]
    for item in evidence:
        item["flags"] = list(item["flags"] or [])
    content = {"kind": kind, "case_id": case_id, "case_no": case["case_no"], "title": case["title"],
               "opened_on": case["opened_on"], "entity": entity, "officers": officers, "checkin": checkin,
               "result": result, "evidence": evidence, "district_adcode": case["district_adcode"],
               "entity_id": case["entity_id"]}
    if kind == "rectification-notice":
        content["rectify_by"] = from_db(conn).add_workdays(case["opened_on"], RECTIFY_WORKDAYS)
    return content


class _Pdf(FPDF):
    def __init__(self, number: str, sha_note: str) -> None:
        super().__init__(format="A4", unit="mm")
        self.number, self.sha_note = number, sha_note
        self.add_font("cjk", fname=CJK_FONT, collection_font_number=CJK_INDEX)
        self.set_auto_page_break(True, margin=18)
        self.set_margins(18, 16, 18)

    def footer(self) -> None:
        self.set_y(-13)
        self.set_font("cjk", size=8)
        self.set_text_color(110)
        self.cell(0, 5, f"{self.number}　第 {self.page_no()} 页　{self.sha_note}", align="C")
        self.set_text_color(0)


def _para(pdf: _Pdf, text: str, size: float = 11, height: float = 6.5) -> None:
    pdf.set_font("cjk", size=size)
    pdf.multi_cell(0, height, text, wrapmode=WrapMode.CHAR, new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _field(pdf: _Pdf, label: str, value: str) -> None:
    pdf.set_font("cjk", size=10.5)
    pdf.set_text_color(90)
    pdf.cell(32, 6.5, label)
    pdf.set_text_color(0)
    pdf.multi_cell(0, 6.5, value or "—", wrapmode=WrapMode.CHAR, new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _evidence_list(pdf: _Pdf, evidence: list[dict]) -> None:
    pdf.set_font("cjk", size=12)
    pdf.cell(0, 8, f"证据清单（共 {len(evidence)} 件）", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    if not evidence:
        _para(pdf, "无", 10)
    for n, item in enumerate(evidence, start=1):
        flags = "、".join(FLAG_LABELS.get(f, f) for f in item["flags"]) or "无异常"
        pdf.set_font("cjk", size=9.5)
        label = KIND_LABELS.get(item["kind"], item["kind"])
        pdf.cell(0, 5.5, f"{n}. 证据 {item['id']}　{label}　{item['received_at']}　EXIF 检查：{flags}",
                 new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_font("cjk", size=7.5)
        pdf.cell(0, 4.2, f"    SHA-256 {item['sha256']}", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.cell(0, 4.2, f"    SM3 {item['sm3']}", new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _heading(pdf: _Pdf, office: str, title: str, number: str) -> None:
    pdf.add_page()
    pdf.set_font("cjk", size=13)
    pdf.cell(0, 8, office, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("cjk", size=20)
    pdf.cell(0, 12, title, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("cjk", size=11)
    pdf.cell(0, 7, number, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(3)


def render_pdf(content: dict, number: str, map_png: bytes | None, issued: date) -> bytes:
    """The PDF bytes of a document (pure: same inputs, same layout)."""
    kind = content["kind"]
    title = KINDS[kind][0]
    entity = content["entity"] or {}
    office = f"{entity.get('city') or ''}{entity.get('district') or ''}市场监督管理局"
    pdf = _Pdf(number, "本文书哈希值记入案件哈希链")
    pdf.set_title(f"{title} {number}")
    pdf.set_creator("政图 Zhengtu")
    _heading(pdf, office, title, number)
    result = content.get("result") or {}
    if kind == "inspection-record":
        checkin = content.get("checkin") or {}
        _field(pdf, "检查对象", entity.get("name", ""))
        _field(pdf, "统一社会信用代码", entity.get("uscc", ""))
        _field(pdf, "类别", entity.get("category", ""))
        _field(pdf, "地址", entity.get("address", ""))
        _field(pdf, "法定代表人", entity.get("legal_rep_name") or "")
        _field(pdf, "检查时间", checkin.get("at") or result.get("at") or str(content["opened_on"]))
        site = (f"距对象 {checkin['distance_m']} 米，{'在现场' if checkin.get('on_site') else '不在现场'}"
                if checkin else "无签到记录")
        _field(pdf, "现场签到", site)
        _field(pdf, "执法人员", "、".join(content["officers"]))
        _field(pdf, "案件编号", content["case_no"])
        _field(pdf, "检查结果", result.get("result") or content["title"])
        pdf.ln(1)
        _para(pdf, "检查情况：" + (result.get("findings") or content["title"]))
        _para(pdf, "执法人员已出示执法证件，告知当事人依法享有陈述、申辩及申请回避的权利。", 10)
    else:
        _para(pdf, f"{entity.get('name', '')}（统一社会信用代码：{entity.get('uscc', '')}）：", 12)
        found = (result.get("findings") or content["title"]).rstrip("。；;，, ")
        _para(pdf, f"　　经查，你单位存在以下问题：{found}。")
        _para(pdf, f"　　上述行为违反了有关法律、法规的规定。根据《中华人民共和国行政处罚法》第二十八条第一款，"
                   f"本局责令你单位于 {content['rectify_by']:%Y年%m月%d日} 前改正上述违法行为，"
                   f"并将改正情况书面报告本局。"
                   f"逾期不改正的，本局将依法处理。")
        _para(pdf, "　　如不服本通知，可以在收到本通知之日起六十日内依法申请行政复议，或者在六个月内依法向人民法院"
                   "提起行政诉讼。")
        _field(pdf, "地址", entity.get("address", ""))
        _field(pdf, "案件编号", content["case_no"])
        _field(pdf, "执法人员", "、".join(content["officers"]))
    if map_png:
        pdf.ln(2)
        pdf.set_font("cjk", size=12)
        pdf.cell(0, 8, "现场位置示意图", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        if pdf.get_y() + 72 > pdf.h - 20:
            pdf.add_page()
        pdf.image(io.BytesIO(map_png), w=pdf.epw)
        pdf.ln(2)
    _evidence_list(pdf, content["evidence"])
    pdf.ln(4)
    pdf.set_font("cjk", size=11)
    pdf.cell(0, 7, f"{office}（印章）", align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.cell(0, 7, f"{issued:%Y年%m月%d日}", align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    if kind == "inspection-record":
        pdf.cell(0, 7, "当事人签名：　　　　　　　执法人员签名：", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    return bytes(pdf.output())


def _store(store: Path, data: bytes, sha: str) -> str:
    """Write the PDF content-addressed (temp file, fsync, rename, read-only); return its relative path."""
    rel = Path("documents") / sha[:2] / f"{sha}.pdf"
    target = store / rel
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".part")
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o444)
        os.replace(tmp, target)
    return str(rel)


def document_for(conn: psycopg2.extensions.connection, who: Principal, case_id: int, kind: str,
                 store: Path) -> Document:
    """The current document of ``kind`` for a case: the stored one if the case is unchanged, else a new version."""
    check_kind(kind)
    content = gather(conn, case_id, kind)
    source = hashlib.sha256(canonical(content)).hexdigest()
    district = content["district_adcode"]
    with conn.cursor() as cur:
        cur.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"doc:{case_id}:{kind}",))
        cur.execute(LATEST_SQL, (case_id, kind))
        latest = cur.fetchone()
    if latest and latest[5] == source and (store / latest[7]).exists():
        return Document(latest[0], kind, latest[1], latest[4], latest[6], store / latest[7], False)
    issued = datetime.now(SHANGHAI).date()
    if latest:
        number, year, seq, version = latest[1], latest[2], latest[3], latest[4] + 1
    else:
        year = today().year
        with conn.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"docno:{district}:{year}:{kind}",))
            cur.execute(NEXT_SEQ, (district, year, kind))
            seq = int(cur.fetchone()[0])
        number = f"{office_prefix(conn, district)}{KINDS[kind][1]}〔{year}〕{seq}号"
        version = 1
    data = render_pdf(content, number, render_site_map(conn, content["entity_id"]), issued)
    sha = hashlib.sha256(data).hexdigest()
    sm3 = hashlib.new("sm3", data).hexdigest()
    rel = _store(store, data, sha)
    with conn.cursor() as cur:
        cur.execute(INSERT_DOC, (case_id, kind, number, year, seq, version, source, sha, sm3, len(data), rel,
                                 who.username, district))
        doc_id = int(cur.fetchone()[0])
    append_link(conn, chain_key(case_id), "document", doc_id,
                case_chain.stored_payload(conn, "document", doc_id), district)
    return Document(doc_id, kind, number, version, sha, store / rel, True)

