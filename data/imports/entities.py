"""Load a register of regulated entities: validate, stage with COPY, upsert by USCC, report.

Per batch, in one transaction: good rows are COPYed into a temporary staging table, located in a
district by point-in-polygon on ``admin_area_parts`` (points outside the loaded boundaries, or
outside the caller's region, are rejected there), then ``INSERT … ON CONFLICT (uscc) DO UPDATE``
writes only rows that are new or differ in a column the file provides. Columns the file lacks keep
their stored values, so re-importing the same file, or an export of the same entities, changes
nothing. ``dry_run`` runs every check, including the database ones, and rolls each batch back.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import psycopg2.extensions
from psycopg2 import sql
from tqdm import tqdm

from accounts import audit
from data.imports.columns import LABELS, OPTIONAL, REQUIRED, parse_mapping, resolve
from data.imports.coords import SourceCrs, parse_crs
from data.imports.readers import Source, open_source
from data.imports.report import ImportSummary, Problem
from data.imports.validate import check_batch
from geo.db import SET_CONTEXT

BATCH_SIZE = 50_000
GEOM_TOLERANCE = 1e-7  # degrees (~1 cm): a round trip through GCJ-02 is not "a change"
CATEGORIES_SQL = "SELECT code, name_zh, name_en FROM entity_categories"
STAGE_TYPES = {"row_no": "integer", "uscc": "char(18)", "name": "text", "address": "text",
               "category": "text", "risk_class": "char(1)", "licence_no": "text",
               "licence_valid_until": "date", "legal_rep_name": "text", "legal_rep_id": "text",
               "contact_phone": "text", "registered_on": "date", "lon": "double precision",
               "lat": "double precision"}
LOCATE_SQL = """
CREATE TEMP TABLE zt_import_ready ON COMMIT DROP AS
SELECT s.*, g.geom,
       (SELECT p.adcode FROM admin_area_parts p
        WHERE p.level = 'district' AND ST_Intersects(p.geom, g.geom) LIMIT 1)::char(6) AS district_adcode
FROM zt_import_stage s
CROSS JOIN LATERAL (SELECT ST_SetSRID(ST_MakePoint(s.lon, s.lat), 4326) AS geom) g
"""
OUTSIDE_SQL = """
SELECT row_no, lon, lat, district_adcode FROM zt_import_ready
WHERE district_adcode IS NULL OR left(district_adcode, length(%(region)s)) <> %(region)s
"""
# Under row security only: codes registered in another jurisdiction are taken out of the batch.
ELSEWHERE_SQL = """
WITH taken AS (SELECT zt_uscc_elsewhere(array(SELECT uscc::text FROM zt_import_ready)) AS uscc)
DELETE FROM zt_import_ready r USING taken t
WHERE r.uscc::text = t.uscc
  AND r.district_adcode IS NOT NULL AND left(r.district_adcode, length(%(region)s)) = %(region)s
RETURNING r.row_no, r.uscc::text
"""
SAME_SQL = """
DELETE FROM zt_import_ready r USING entities e
WHERE e.uscc = r.uscc AND ({current}) IS NOT DISTINCT FROM ({incoming})
  AND ST_DWithin(e.geom, r.geom, %(tolerance)s)
"""
UPSERT_SQL = """
WITH written AS (
    INSERT INTO entities AS e ({columns})
    SELECT {columns} FROM zt_import_ready
    WHERE district_adcode IS NOT NULL AND left(district_adcode, length(%(region)s)) = %(region)s
    ON CONFLICT (uscc) DO UPDATE SET {assignments}
    WHERE ({current}) IS DISTINCT FROM ({incoming})
       OR NOT ST_DWithin(e.geom, EXCLUDED.geom, %(tolerance)s)
    RETURNING (xmax = 0) AS inserted
)
SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM written
"""


@dataclass(frozen=True)
class ImportOptions:
    """How to read and load a file (the CLI's and the upload page's options)."""

    crs: str | None = None  # default: the file's own CRS, else WGS 84
    columns: str | None = None  # "header=field,…" overrides
    dry_run: bool = False
    batch_size: int = BATCH_SIZE
    progress: bool = True
    region: str = ""  # adcode prefix the rows must fall in ('' = anywhere loaded)
    context: dict[str, str] | None = None  # zhengtu.* settings per transaction (web: RLS + audit)
    actor: str = "cli"


def load_categories(conn: psycopg2.extensions.connection) -> dict[str, str]:
    """Lower-cased code, Chinese name and English name → category code."""
    with conn.cursor() as cur:
        cur.execute(CATEGORIES_SQL)
        rows = cur.fetchall()
    return {key.strip().lower(): code for code, zh, en in rows for key in (code, zh, en)}


def source_crs(source: Source, requested: str | None) -> SourceCrs:
    """The CRS asked for, else the file's own, else WGS 84 (tables carry no CRS)."""
    return parse_crs(requested or source.crs or "wgs84")


def import_entities(conn: psycopg2.extensions.connection, path: Path | str,
                    options: ImportOptions = ImportOptions(),
                    on_batch: Callable[[int], None] | None = None) -> ImportSummary:
    """Import ``path`` into ``entities``; return the counts and every problem (nothing raised per row).

    Commits one transaction per batch (rolls it back when ``dry_run``). File-level problems (cannot
    read, required column missing, bad CRS or mapping) raise ``BadRequest`` before anything is written.
    One helper thread reads and validates the next batch while the database loads the current one.
    """
    source = open_source(path)
    crs = source_crs(source, options.crs)
    mapping = resolve(source.headers, parse_mapping(options.columns), source.has_geometry)
    categories = load_categories(conn)
    conn.rollback()
    summary = ImportSummary(dry_run=options.dry_run)
    seen: dict[str, int] = {}
    fields = [f for f in (*REQUIRED, *OPTIONAL) if f in mapping]
    checked_batches = (
        (batch, check_batch(batch, mapping, categories, crs, seen)) for batch in source.batches(options.batch_size))
    with tqdm(total=source.total, unit="行", desc="导入监管对象 import", disable=not options.progress) as bar, \
            ThreadPoolExecutor(max_workers=1) as reader:
        upcoming = reader.submit(next, checked_batches, None)
        while (item := upcoming.result()) is not None:
            # read and validate the next batch while PostgreSQL loads this one
            upcoming = reader.submit(next, checked_batches, None)
            batch, checked = item
            summary.read += len(batch.rows)
            summary.problems += checked.problems
            try:
                counts, outside = _load(conn, checked.good, fields, options)
            except BaseException:
                conn.rollback()
                raise
            if options.dry_run:
                conn.rollback()
            else:
                conn.commit()
            summary.problems += outside
            summary.inserted += counts[0]
            summary.updated += counts[1]
            summary.unchanged += len(checked.good) - len(outside) - counts[0] - counts[1]
            bar.update(len(batch.rows))
            if on_batch:
                on_batch(summary.read)
    if not options.dry_run:
        _audit(conn, path, summary, options)
    return summary


def _copy(cur: psycopg2.extensions.cursor, good: pd.DataFrame, fields: list[str]) -> None:
    columns = ["row_no", *fields, "lon", "lat"]
    cur.execute(sql.SQL("CREATE TEMP TABLE zt_import_stage ({}) ON COMMIT DROP").format(
        sql.SQL(", ").join(sql.SQL("{} {}").format(sql.Identifier(c), sql.SQL(STAGE_TYPES[c]))
                           for c in columns)))
    buf = io.StringIO()
    good[columns].to_csv(buf, header=False, index=False)
    buf.seek(0)
    cur.copy_expert(sql.SQL("COPY zt_import_stage ({}) FROM STDIN WITH (FORMAT csv)").format(
        sql.SQL(", ").join(map(sql.Identifier, columns))), buf)


def _compared(fields: list[str]) -> list[str]:
    return [*[f for f in fields if f != "uscc"], "district_adcode"]


def same_query(fields: list[str]) -> sql.Composable:
    """Drop staged rows identical to the stored entity: a join, cheaper than a no-op upsert per row."""
    compared = _compared(fields)
    return sql.SQL(SAME_SQL).format(current=sql.SQL(", ").join(sql.Identifier("e", c) for c in compared),
                                    incoming=sql.SQL(", ").join(sql.Identifier("r", c) for c in compared))


def upsert_query(fields: list[str]) -> sql.Composable:
    """The INSERT … ON CONFLICT for the columns this file provides (names from ``columns`` only)."""
    written = [*fields, "district_adcode", "geom"]
    compared = _compared(fields)
    return sql.SQL(UPSERT_SQL).format(
        columns=sql.SQL(", ").join(map(sql.Identifier, written)),
        assignments=sql.SQL(", ").join(sql.SQL("{0} = EXCLUDED.{0}").format(sql.Identifier(c))
                                       for c in written if c != "uscc"),
        current=sql.SQL(", ").join(sql.Identifier("e", c) for c in compared),
        incoming=sql.SQL(", ").join(sql.Identifier("excluded", c) for c in compared))


def _load(conn: psycopg2.extensions.connection, good: pd.DataFrame, fields: list[str],
          options: ImportOptions) -> tuple[tuple[int, int], list[Problem]]:
    """Stage, locate and upsert one batch in the connection's current transaction."""
    if good.empty:
        return (0, 0), []
    params = {"region": options.region, "tolerance": GEOM_TOLERANCE}
    with conn.cursor() as cur:
        if options.context:
            cur.execute(SET_CONTEXT, (json.dumps(options.context),))
        cur.execute("SELECT set_config('zhengtu.bulk', 'on', true)")  # one audit row, not one per row
        _copy(cur, good, fields)
        cur.execute(LOCATE_SQL)
        cur.execute(OUTSIDE_SQL, params)
        outside = [_outside_problem(*row) for row in cur.fetchall()]
        if options.context:  # the web page: the app role's row security applies to the upsert
            cur.execute(ELSEWHERE_SQL, params)
            outside += [Problem(row_no, LABELS["uscc"], code, "该统一社会信用代码已登记在其他辖区，"
                                "不能在本辖区导入或更新 / this USCC is registered in another jurisdiction")
                        for row_no, code in cur.fetchall()]
        # index lookups per staged row: a hash join would read the whole entities table every batch
        cur.execute("SET LOCAL enable_hashjoin = off; SET LOCAL enable_mergejoin = off")
        cur.execute(same_query(fields), params)
        cur.execute("RESET enable_hashjoin; RESET enable_mergejoin")
        cur.execute(upsert_query(fields), params)
        inserted, updated = cur.fetchone()
    return (int(inserted), int(updated)), outside


def _outside_problem(row_no: int, lon: float, lat: float, district: str | None) -> Problem:
    value = f"{lon:.6f},{lat:.6f} (WGS 84)"
    if district is None:
        return Problem(row_no, LABELS["lon"], value,
                       "坐标不在已加载的行政区域内 / the point is outside the loaded boundaries")
    return Problem(row_no, LABELS["lon"], value,
                   f"位置属于 {district}，不在您的辖区内 / the point is outside your region")


def _audit(conn: psycopg2.extensions.connection, path: Path | str, summary: ImportSummary,
           options: ImportOptions) -> None:
    with conn:
        if options.context:
            with conn.cursor() as cur:
                cur.execute(SET_CONTEXT, (json.dumps(options.context),))
        audit.record(conn, options.actor, "import_entities", object_type="entities",
                     detail={"file": Path(path).name, **summary.counts()})
