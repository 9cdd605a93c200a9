"""``zhengtu export``: every format, bbox, GCJ-02 at the edge, and export → import round trips."""

from __future__ import annotations

import math
from contextlib import closing

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from dashboard import cli
from data.exports import ExportOptions, export_layer
from data.imports.entities import ImportOptions, import_entities
from data.imports.layers import LayerOptions, drop_layer, import_layer
from geo.crs import wgs84_to_gcj02
from geo.db import connect
from tests.import_builders import forget, point_in, stored, usccs


@pytest.fixture(scope="module")
def box(db_url):
    """The extent of Tianhe's demo entities (a few dozen of the session's 4,000)."""
    with closing(connect(db_url)) as conn, conn.cursor() as cur:
        cur.execute("SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (SELECT ST_Extent(geom) AS e "
                    "FROM entities WHERE district_adcode = '440106') s")
        return ",".join(repr(v) for v in cur.fetchone())


@pytest.fixture
def env(db_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", db_url)
    yield
    forget(db_url)


def entities_in_box(db_url, box):
    x0, y0, x1, y1 = map(float, box.split(","))
    with closing(connect(db_url)) as conn, conn.cursor() as cur:
        cur.execute("SELECT uscc, ST_X(geom), ST_Y(geom) FROM entities WHERE ST_Intersects(geom, "
                    "ST_MakeEnvelope(%s, %s, %s, %s, 4326)) ORDER BY id", (x0, y0, x1, y1))
        return cur.fetchall()


def reimport(db_url, path, **options):
    with closing(connect(db_url)) as conn:
        return import_entities(conn, path, ImportOptions(progress=False, **options))


@pytest.mark.parametrize("fmt", ["gpkg", "geojson", "shp", "csv", "xlsx"])
def test_export_then_reimport_changes_nothing(db_url, box, tmp_path, env, capsys, fmt):
    expected = entities_in_box(db_url, box)
    assert len(expected) > 10
    out = tmp_path / f"tianhe.{fmt}"

    assert cli.main(["export", "entities", "--format", fmt, "--bbox", box, "--output", str(out)]) == 0
    assert f"已导出 exported {len(expected)}" in capsys.readouterr().out

    summary = reimport(db_url, out)
    assert summary.counts() == {"read": len(expected), "inserted": 0, "updated": 0,
                                "unchanged": len(expected), "rejected": 0}, summary.problems[:3]


def test_gcj02_export_shifts_coordinates_and_imports_back_unchanged(db_url, box, tmp_path, env):
    expected = entities_in_box(db_url, box)
    out = tmp_path / "amap.csv"
    assert cli.main(["export", "entities", "--format", "csv", "--bbox", box, "--crs", "gcj02",
                     "--output", str(out)]) == 0
    table = pd.read_csv(out, encoding="utf-8-sig", dtype={"uscc": str})
    assert list(table["uscc"]) == [u for u, _, _ in expected]
    for (_, lon, lat), (_, row) in zip(expected, table.iterrows(), strict=True):
        assert math.dist(wgs84_to_gcj02(lon, lat), (row["lon"], row["lat"])) < 1e-12
    assert reimport(db_url, out, crs="gcj02").unchanged == len(expected)
    # read as WGS 84 they would move ~500 m: the comparison is not blind to coordinates
    assert reimport(db_url, out, dry_run=True).updated + reimport(db_url, out, dry_run=True).rejected \
        == len(expected)


def test_round_trip_recreates_the_same_entities(db_url, tmp_path, env):
    codes = usccs(3, "440104")
    points = [point_in(db_url, "440104", dx=i * 1e-4) for i in range(3)]
    source = tmp_path / "new.csv"
    pd.DataFrame({"统一社会信用代码": codes, "名称": ["来回甲", "来回乙", "来回丙"],
                  "地址": ["越秀一路", "越秀二路", "越秀三路"], "经度": [p[0] for p in points],
                  "纬度": [p[1] for p in points], "类别": ["餐饮服务", "药品零售", "特种设备"],
                  "风险等级": ["A", "B", "D"]}).to_csv(source, index=False)
    assert reimport(db_url, source).inserted == 3
    before = {c: stored(db_url, c) for c in codes}
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    box = f"{min(xs) - 1e-5},{min(ys) - 1e-5},{max(xs) + 1e-5},{max(ys) + 1e-5}"
    out = tmp_path / "back.gpkg"
    with closing(connect(db_url)) as conn:
        export_layer(conn, "entities", ExportOptions(fmt="gpkg", bbox=box, output=out))
    assert set(gpd.read_file(out)["uscc"]) >= set(codes)
    forget(db_url)
    assert all(stored(db_url, c) is None for c in codes)

    summary = reimport(db_url, out)

    assert summary.inserted >= 3 and summary.rejected == 0
    assert {c: stored(db_url, c) for c in codes} == before


def test_imported_layers_export_too(db_url, tmp_path, env):
    x, y = point_in(db_url, "440106")
    src = tmp_path / "zone.geojson"
    gpd.GeoDataFrame({"名称": ["测试区"]}, geometry=[shapely.box(x, y, x + 0.01, y + 0.01)],
                     crs="EPSG:4326").to_file(src, driver="GeoJSON")
    with closing(connect(db_url)) as conn:
        import_layer(conn, src, LayerOptions(name="test_zones"))
    try:
        out = tmp_path / "zone_4547.shp"
        assert cli.main(["export", "test_zones", "--format", "shp", "--crs", "EPSG:4547", "--output", str(out)]) == 0
        back = gpd.read_file(out)
        assert back.crs.to_epsg() == 4547 and list(back["名称"]) == ["测试区"]
        assert back.to_crs(4326).geometry[0].symmetric_difference(shapely.box(x, y, x + 0.01, y + 0.01)).area < 1e-12
        xlsx = tmp_path / "zone.xlsx"
        assert cli.main(["export", "test_zones", "--format", "xlsx", "--output", str(xlsx)]) == 0
        assert pd.read_excel(xlsx)["wkt"][0].startswith("POLYGON")
    finally:
        with closing(connect(db_url)) as conn:
            drop_layer(conn, "test_zones")


def test_bad_arguments_are_refused_with_a_message(db_url, tmp_path, env, capsys):
    assert cli.main(["export", "nope", "--format", "csv", "--output", str(tmp_path / "x.csv")]) == 2
    assert "未知图层" in capsys.readouterr().err
    assert cli.main(["export", "entities", "--format", "csv", "--bbox", "1,2,3"]) == 2
    assert "bbox" in capsys.readouterr().err
    assert cli.main(["export", "entities", "--format", "csv", "--crs", "mars"]) == 2
    assert "坐标系" in capsys.readouterr().err
