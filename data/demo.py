"""The seeded demo-data generator: entities, officers, tasks, cases and city events at any scale.

Reproducible: the same seed and size give the same rows (ids restart at 1). Bulk-loaded with COPY
from in-memory CSV built by pandas, one district at a time, so a million entities fit in memory and
load in well under a minute (see README, Performance).
"""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Iterable

import numpy as np
import pandas as pd
import psycopg2.extensions
import shapely
from tqdm import tqdm

from data import names
from data.ids import make_id_numbers, make_mobile_numbers, make_uscc
from data.sampling import District, allocate, load_districts, sample_points
from geo.meta import get_meta, set_meta

CATEGORY_SHARES = {"catering": 0.30, "food": 0.22, "retail": 0.20, "drugs": 0.08, "medical": 0.04,
                   "special_eq": 0.06, "industrial": 0.05, "construction": 0.03, "hazchem": 0.02}
RISK_SHARES = {"default": [0.40, 0.35, 0.18, 0.07], "hazchem": [0.05, 0.25, 0.40, 0.30],
               "special_eq": [0.15, 0.35, 0.35, 0.15]}
DEPARTMENTS = ["市场监督管理局", "应急管理局", "住房和城乡建设局", "城市管理和综合执法局"]
CASE_STAGES = ["立案", "调查取证", "法制审核", "决定", "执行", "结案"]
TODAY = dt.date(2026, 11, 25)
ENTITY_COLUMNS = ["uscc", "name", "category", "risk_class", "licence_no", "licence_valid_until",
                  "legal_rep_name", "legal_rep_id", "contact_phone", "address", "district_adcode",
                  "registered_on", "geom"]
AUDIT_BULK = """
INSERT INTO audit_log (username, action, object_type, detail)
VALUES (%s, 'bulk_load', 'entities', %s::jsonb)
"""
# A demo reset clears the field records and their chains with the tasks they belong to, so that
# `zhengtu evidence verify` stays meaningful (stored files are content-addressed and simply orphaned).
TRUNCATE = ("TRUNCATE chain_digests, chain_links, checkin_reasons, checkins, evidence, city_events, "
            "cases, inspection_tasks, officers, entities, draw_plans RESTART IDENTITY CASCADE")


def copy_frame(cur: psycopg2.extensions.cursor, table: str, frame: pd.DataFrame) -> None:
    """COPY a DataFrame into ``table`` (a constant from this module, never user text)."""
    buf = io.StringIO()
    frame.to_csv(buf, header=False, index=False)
    buf.seek(0)
    cur.copy_expert(f"COPY {table} ({', '.join(frame.columns)}) FROM STDIN WITH (FORMAT csv)", buf)


def _points_hex(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    points = shapely.set_srid(shapely.points(x, y), 4326)
    return shapely.to_wkb(points, hex=True, include_srid=True)


def _days(rng: np.random.Generator, start: dt.date, low: int, high: int, n: int) -> np.ndarray:
    return (np.datetime64(start) + rng.integers(low, high, n).astype("timedelta64[D]")).astype(str)


def entity_frame(rng: np.random.Generator, district: District, n: int) -> pd.DataFrame:
    """``n`` synthetic entities of one district, as COPY-ready columns."""
    x, y = sample_points(rng, district, n)
    cats = rng.choice(list(CATEGORY_SHARES), n, p=list(CATEGORY_SHARES.values()))
    risk = np.empty(n, dtype="<U1")
    for key, shares in RISK_SHARES.items():
        mask = (cats == key) if key != "default" else ~np.isin(cats, list(RISK_SHARES))
        risk[mask] = rng.choice(list("ABCD"), int(mask.sum()), p=shares)
    adcodes = np.full(n, district.adcode)
    org_type = np.where(np.isin(cats, ["catering", "retail", "food"]) & (rng.random(n) < 0.6),
                        "2", "1")
    licence_serial = rng.integers(0, 10_000_000, n).astype(str)
    licence = np.where(np.isin(cats, ["food", "catering"]),
                       np.char.add("JY1" + district.adcode, np.char.zfill(licence_serial, 7)),
                       np.char.add("粤" + district.adcode[:4], np.char.zfill(licence_serial, 7)))
    return pd.DataFrame({
        "uscc": make_uscc(rng, adcodes, org_type),
        "name": names.entity_names(rng, np.full(n, district.name), cats),
        "category": cats,
        "risk_class": risk,
        "licence_no": np.where(cats == "retail", None, licence),
        "licence_valid_until": _days(rng, TODAY, -180, 1800, n),
        "legal_rep_name": names.person_names(rng, n),
        "legal_rep_id": make_id_numbers(rng, adcodes, n),
        "contact_phone": make_mobile_numbers(rng, n),
        "address": names.addresses(rng, np.full(n, district.address_prefix)),
        "district_adcode": adcodes,
        "registered_on": _days(rng, dt.date(2000, 1, 1), 0, 9460, n),
        "geom": _points_hex(x, y),
    })[ENTITY_COLUMNS]


def seed_entities(cur: psycopg2.extensions.cursor, rng: np.random.Generator,
                  districts: list[District], total: int, progress: bool = True) -> int:
    """Generate and COPY ``total`` entities, district by district, with a progress bar."""
    counts = allocate(rng, districts, total)
    loaded = 0
    with tqdm(total=total, unit="主体", desc="生成监管对象 entities", disable=not progress) as bar:
        for district, n in zip(districts, counts, strict=True):
            if n:
                copy_frame(cur, "entities", entity_frame(rng, district, int(n)))
                loaded += int(n)
                bar.update(int(n))
    return loaded


def officer_frame(rng: np.random.Generator, districts: Iterable[District],
                  per_district: int) -> pd.DataFrame:
    """Enforcement officers, ``per_district`` in each district, across the departments."""
    adcodes = np.repeat([d.adcode for d in districts], per_district)
    n = len(adcodes)
    return pd.DataFrame({
        "badge_no": [f"{a}{i:05d}" for i, a in enumerate(adcodes, start=1)],
        "name": names.person_names(rng, n),
        "department": rng.choice(DEPARTMENTS, n),
        "region_adcode": adcodes,
        "id_number": make_id_numbers(rng, adcodes, n),
        "phone": make_mobile_numbers(rng, n),
    })


def _entity_sample(cur: psycopg2.extensions.cursor, rng: np.random.Generator, total: int,
                   n: int) -> pd.DataFrame:
    ids = np.sort(rng.choice(np.arange(1, total + 1), min(n, total), replace=False))
    cur.execute("SELECT id, district_adcode, ST_X(geom), ST_Y(geom) FROM entities "
                "WHERE id = ANY(%s) ORDER BY id", (ids.tolist(),))
    return pd.DataFrame(cur.fetchall(), columns=["id", "district", "lon", "lat"])


def work_frames(cur: psycopg2.extensions.cursor, rng: np.random.Generator, total: int,
                sizes: dict[str, int]) -> dict[str, pd.DataFrame]:
    """A few inspection tasks and cases tied to real entities and officers."""
    cur.execute("SELECT region_adcode, array_agg(id ORDER BY id) FROM officers GROUP BY 1")
    officers = {code.strip(): ids for code, ids in cur.fetchall()}
    tasks = _entity_sample(cur, rng, total, sizes["tasks"])
    n = len(tasks)
    tasks_df = pd.DataFrame({
        "entity_id": tasks["id"],
        "district_adcode": tasks["district"],
        "kind": rng.choice(["random", "complaint", "campaign", "routine"], n, p=[.5, .2, .15, .15]),
        "status": rng.choice(["open", "in_progress", "done"], n, p=[.5, .2, .3]),
        "due_date": _days(rng, TODAY, -10, 30, n),
        "assignees": ["{" + ",".join(map(str, rng.choice(officers[d], 2, replace=False))) + "}"
                      for d in tasks["district"].str.strip()],
    })
    cases = _entity_sample(cur, rng, total, sizes["cases"])
    m = len(cases)
    cases_df = pd.DataFrame({
        "case_no": [f"粤{d.strip()[:4]}市监立〔2026〕{i:04d}号" for i, d in
                    enumerate(cases["district"], start=1)],
        "entity_id": cases["id"], "title": rng.choice(["无证经营", "超范围经营", "销售过期食品",
                                                       "未按规定公示信息", "特种设备未定期检验"], m),
        "stage": rng.choice(CASE_STAGES, m), "opened_on": _days(rng, TODAY, -200, 0, m),
        "district_adcode": cases["district"],
    })
    cases_df = _case_progress(cases_df)
    # City events, sensors and alerts come from cityops.demo (through the real intake and loop),
    # seeded after this by dashboard.provision.seed.
    return {"inspection_tasks": tasks_df, "cases": cases_df}


def _case_progress(cases_df: pd.DataFrame) -> pd.DataFrame:
    """Workflow fields that agree with each demo case's stage (no draws from the shared generator).

    Open cases are at most 85 days old (inside the 90-day limit of 《行政处罚法》第六十条); a stage
    began a share of the way from 立案 to today; decided cases carry a decision and closed ones are
    published, as the workflow would leave them (enforcement/cases.py).
    """
    df = cases_df.copy()
    opened = pd.to_datetime(df["opened_on"])
    today = pd.Timestamp(TODAY)
    idx = df["stage"].map(CASE_STAGES.index)
    age = (today - opened).dt.days
    pending = idx < CASE_STAGES.index("决定")
    opened = opened.where(~pending, today - pd.to_timedelta(age % 85, unit="D"))
    age = (today - opened).dt.days
    df["opened_on"] = opened.dt.date.astype(str)
    df["stage_since"] = (opened + pd.to_timedelta(age * idx // 6, unit="D")).dt.date.astype(str)
    decided = idx >= CASE_STAGES.index("执行")
    penalty = (1000 * (1 + df["entity_id"] % 20)).where(decided)
    df["penalty_yuan"] = penalty
    df["decision"] = ("警告，并处罚款人民币" + penalty.fillna(0).astype(int).astype(str) + "元").where(decided)
    df["decided_on"] = (opened + pd.to_timedelta(age * 4 // 6, unit="D")).dt.date.astype(str).where(decided)
    closed = df["stage"] == "结案"
    df["closed_on"] = df["stage_since"].where(closed)
    df["published"] = closed
    return df


def generate_demo(conn: psycopg2.extensions.connection, *, entities: int, seed: int = 2020,
                  progress: bool = True, force: bool = False) -> dict:
    """Replace all demo rows with a fresh, reproducible set; skip if the same set is already there.

    Runs in one transaction, so an interrupted run leaves the previous data intact.
    """
    wanted = {"entities": int(entities), "seed": int(seed)}
    if not force and get_meta(conn, "demo") == wanted:
        return {**wanted, "skipped": True}
    rng = np.random.default_rng(seed)
    districts = load_districts(conn)
    if not districts:
        raise ValueError("没有已加载的区县边界：请先运行 `zhengtu boundaries` / load boundaries first")
    sizes = {"tasks": max(20, entities // 2000), "cases": max(10, entities // 5000),
             "events": max(50, entities // 500)}
    with conn, conn.cursor() as cur:
        cur.execute("SELECT set_config('zhengtu.bulk', 'on', true)")  # one audit row, not 200,000
        cur.execute(TRUNCATE)
        loaded = seed_entities(cur, rng, districts, int(entities), progress)
        copy_frame(cur, "officers", officer_frame(rng, districts, 10))
        for table, frame in work_frames(cur, rng, loaded, sizes).items():
            copy_frame(cur, table, frame)
        set_meta(conn, "demo", wanted)
        cur.execute(AUDIT_BULK, ("cli:demo", json.dumps({**wanted, **sizes})))
    return {**wanted, **sizes, "officers": 10 * len(districts), "skipped": False}
