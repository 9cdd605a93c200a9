"""Benchmark: import a register of N rows (default 1,000,000) and compare with ogr2ogr's COPY.

Generates a CSV as another system would export it (Chinese headers, UTF-8, GCJ-02 coordinates,
valid USCCs, every row inside a Guangdong district), then, each into a fresh scratch database:
``zhengtu import entities FILE --crs gcj02`` (read, validate, convert, locate in a district by
point-in-polygon, COPY + upsert per 50,000-row batch, rebuild the tile pyramid) and
``ogr2ogr -f PostgreSQL … --config PG_USE_COPY YES`` on the same file (raw COPY of text columns
and a point: no validation, no coordinate conversion, no district, no upsert). Prints figures.
Usage: .venv/bin/python bench/import_entities.py [N]
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from contextlib import closing
from pathlib import Path

import numpy as np
import pandas as pd
import psycopg2
import psycopg2.extensions
import shapely
from psycopg2 import sql

from dashboard.provision import ensure_boundaries, migrate
from data.demo import entity_frame
from data.sampling import allocate, load_districts
from geo.crs import wgs84_to_gcj02
from geo.db import connect, resolve_url
from geo.settings import Settings

NAME = "zhengtu_bench_import"
ROOT = Path(__file__).resolve().parents[1]
CATEGORY_ZH = {"food": "食品经营", "catering": "餐饮服务", "drugs": "药品零售", "medical": "医疗器械",
               "special_eq": "特种设备", "hazchem": "危险化学品", "construction": "建筑施工",
               "industrial": "工业产品生产", "retail": "商品零售"}


def admin(url: str) -> psycopg2.extensions.connection:
    conn = psycopg2.connect(psycopg2.extensions.make_dsn(url, dbname="postgres"))
    conn.autocommit = True
    return conn


def fresh_database(server: str) -> str:
    with closing(admin(server)) as a, a.cursor() as cur:
        cur.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(NAME)))
        cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(NAME)))
    url = psycopg2.extensions.make_dsn(server, dbname=NAME)
    with closing(connect(url)) as conn:
        migrate(conn)
        ensure_boundaries(conn)
    return url


def write_register(url: str, n: int, path: Path) -> None:
    """N entities spread like the demo data, written with Chinese headers and GCJ-02 coordinates."""
    rng = np.random.default_rng(9)
    with closing(connect(url)) as conn:
        districts = load_districts(conn)
    frames = [entity_frame(rng, d, int(k)) for d, k in zip(districts, allocate(rng, districts, n), strict=True)
              if k]
    frame = pd.concat(frames, ignore_index=True)
    points = shapely.from_wkb(frame["geom"].to_numpy())
    lon, lat = wgs84_to_gcj02(shapely.get_x(points), shapely.get_y(points))
    pd.DataFrame({"统一社会信用代码": frame["uscc"], "企业名称": frame["name"],
                  "经营地址": frame["address"], "经度": np.round(lon, 7), "纬度": np.round(lat, 7),
                  "行业类别": frame["category"].map(CATEGORY_ZH), "风险等级": frame["risk_class"],
                  "法定代表人": frame["legal_rep_name"], "联系电话": frame["contact_phone"],
                  "许可证号": frame["licence_no"]}).to_csv(path, index=False, encoding="utf-8")


def timed(args: list[str], env: dict[str, str]) -> tuple[float, str]:
    started = time.perf_counter()
    result = subprocess.run(args, env=env, capture_output=True, text=True, cwd=ROOT)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"{args[0]} failed:\n{result.stderr[-2000:]}")
    return elapsed, result.stdout


def count(url: str, table: str) -> int:
    with closing(connect(url)) as conn, conn.cursor() as cur:
        cur.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table)))
        return int(cur.fetchone()[0])


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    server = resolve_url(Settings.from_env(), start=True)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "register.csv"
        try:
            url = fresh_database(server)
            t0 = time.perf_counter()
            write_register(url, n, path)
            print(f"register written: {n:,} rows, {path.stat().st_size / 1e6:.0f} MB in "
                  f"{time.perf_counter() - t0:.1f} s")
            env = {**os.environ, "DATABASE_URL": url}
            zhengtu = str(ROOT / ".venv/bin/zhengtu")
            seconds, out = timed([zhengtu, "import", "entities", str(path), "--crs", "gcj02"], env)
            print(out.strip().splitlines()[-1] if out.strip() else "")
            loaded = count(url, "entities")
            print(f"zhengtu import entities: {loaded:,} rows in {seconds:.1f} s ({loaded / seconds:,.0f} rows/s, "
                  "incl. validation, GCJ-02→WGS 84, district lookup, upsert and tile pyramid)")
            seconds, out = timed([zhengtu, "import", "entities", str(path), "--crs", "gcj02"], env)
            print(f"  re-import of the same file (all unchanged): {seconds:.1f} s ({n / seconds:,.0f} rows/s)")
            url = fresh_database(server)
            seconds, _ = timed(["ogr2ogr", "-f", "PostgreSQL", f"PG:{url}", str(path), "-nln", "ogr_entities",
                                "-oo", "X_POSSIBLE_NAMES=经度", "-oo", "Y_POSSIBLE_NAMES=纬度",
                                "-a_srs", "EPSG:4326", "-lco", "GEOMETRY_NAME=geom", "-gt", "65536",
                                "--config", "PG_USE_COPY", "YES"], env)
            loaded = count(url, "ogr_entities")
            print(f"ogr2ogr PG_USE_COPY=YES: {loaded:,} rows in {seconds:.1f} s ({loaded / seconds:,.0f} rows/s, "
                  "raw text columns, no checks)")
        finally:
            with closing(admin(server)) as a, a.cursor() as cur:
                cur.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(NAME)))


if __name__ == "__main__":
    main()
