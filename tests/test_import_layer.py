"""Importing a layer of any geometry: repaired or rejected, reprojected, stored, drawn, served.

Each test writes its own file, imports it with the owner's connection, and drops the layer again.
"""

from __future__ import annotations

import os
import re
import subprocess
import zipfile
from contextlib import closing

import geopandas as gpd
import mapbox_vector_tile
import pytest
import shapely
from shapely.geometry import LineString, Polygon, box

from dashboard import cli
from data.imports.layers import LayerOptions, drop_layer, import_layer
from geo.db import connect
from geo.errors import BadRequest
from layers.registry import LAYERS
from layers.style import map_config
from layers.tiles import tile_for
from tests.conftest import bearer
from tests.helpers import one
from tests.import_builders import point_in

NAMES = ("test_grid", "test_roads", "test_zones", "test_cli_layer")


@pytest.fixture
def cleanup(db_url):
    yield
    with closing(connect(db_url)) as conn:
        for name in NAMES:
            drop_layer(conn, name)


def grid_file(db_url, path):
    """Two usable grid cells in Tianhe (one a self-intersecting bow tie), a line and a missing geometry."""
    x, y = point_in(db_url, "440106")
    cell = box(x - 0.002, y - 0.002, x + 0.002, y + 0.002)
    bow_tie = Polygon([(x, y), (x + 0.004, y + 0.004), (x + 0.004, y), (x, y + 0.004), (x, y)])
    assert not bow_tie.is_valid
    frame = gpd.GeoDataFrame({"网格编码": ["440106001", "440106002", "440106003", "440106004"],
                              "网格员": ["李四", "王五", "赵六", "钱七"], "面积": [0.16, 0.08, 0.0, 0.0],
                              "人口": [1200, 900, 0, 0]},
                             geometry=[cell, bow_tie, LineString([(x, y), (x + 0.01, y)]), None],
                             crs="EPSG:4326")
    frame.to_file(path, driver="GeoJSON")
    return (x, y), path


def import_as(db_url, path, **options):
    with closing(connect(db_url)) as conn:
        return import_layer(conn, path, LayerOptions(**options))


def test_polygons_are_repaired_or_rejected_stored_and_located(db_url, tmp_path, cleanup):
    _, path = grid_file(db_url, tmp_path / "grid.geojson")

    result = import_as(db_url, path, name="test_grid", title="测试网格")

    assert (result.kind, result.loaded) == ("polygon", 2)
    reasons = {p.row: p.reason for p in result.problems}
    assert set(reasons) == {3, 4}
    assert "几何类型与图层不一致" in reasons[3] and "缺少几何" in reasons[4]
    with closing(connect(db_url)) as conn, conn.cursor() as cur:
        cur.execute('SELECT "网格编码", district_adcode, ST_IsValid(geom), "人口" '
                    "FROM user_layers.test_grid ORDER BY 1")
        rows = cur.fetchall()
        cur.execute("SELECT title_zh, geometry_kind, feature_count, rejected_count, scope "
                    "FROM user_layers.catalogue WHERE name = 'test_grid'")
        catalogue = cur.fetchone()
    assert rows == [("440106001", "440106", True, 1200), ("440106002", "440106", True, 900)]
    assert catalogue == ("测试网格", "polygon", 2, 2, "shared")


def test_an_imported_layer_draws_as_tiles_and_is_an_ogc_collection(app, client, tokens, db_url, tmp_path,
                                                                   cleanup):
    (x, y), path = grid_file(db_url, tmp_path / "grid.geojson")
    import_as(db_url, path, name="test_grid", title="测试网格")
    inspector = bearer(tokens, "insp_yuexiu")  # another district: a shared layer is for all staff
    tile = tile_for(x + 0.001, y + 0.001, 14)

    tilejson = client.get("/tiles/test_grid.json", headers=inspector)
    mvt = client.get(f"/tiles/test_grid/{tile.z}/{tile.x}/{tile.y}.mvt", headers=inspector)
    items = client.get("/ogc/collections/test_grid/items?f=json", headers=inspector)

    assert tilejson.status_code == 200 and tilejson.get_json()["name"]
    assert mvt.status_code == 200
    features = mapbox_vector_tile.decode(mvt.data)["test_grid"]["features"]
    assert {f["properties"]["网格编码"] for f in features} == {"440106001", "440106002"}
    assert items.status_code == 200
    assert sorted(f["properties"]["网格员"] for f in items.get_json()["features"]) == ["李四", "王五"]
    assert client.get("/tiles/test_grid.json").status_code == 401  # staff only
    style = map_config(None, layer_ids=["test_grid"])
    assert {s["type"] for s in style["layers"] if s.get("source") == "test_grid"} == {"fill", "line", "circle"}

    with closing(connect(db_url)) as conn:
        drop_layer(conn, "test_grid")
    assert client.get("/tiles/test_grid.json", headers=inspector).status_code == 400
    assert "test_grid" not in LAYERS


def test_region_scope_applies_row_security(client, tokens, db_url, tmp_path, cleanup):
    _, path = grid_file(db_url, tmp_path / "zones.geojson")
    import_as(db_url, path, name="test_zones", scope="region")

    def count(username):
        response = client.get("/ogc/collections/test_zones/items?f=json", headers=bearer(tokens, username))
        assert response.status_code == 200
        return len(response.get_json()["features"])

    assert (count("insp_tianhe"), count("insp_yuexiu"), count("t_admin_gd")) == (2, 0, 2)


def test_zipped_shapefile_of_lines_in_a_projected_crs(db_url, tmp_path, cleanup):
    a, b = point_in(db_url, "440106"), point_in(db_url, "440104")
    frame = gpd.GeoDataFrame({"名称": ["测试路"], "等级": ["主干道"]}, geometry=[LineString([a, b])],
                             crs="EPSG:4326").to_crs("EPSG:4547")
    folder = tmp_path / "roads"
    folder.mkdir()
    frame.to_file(folder / "roads.shp", encoding="GBK")
    archive = tmp_path / "roads.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for part in folder.iterdir():
            zf.write(part, part.name)

    result = import_as(db_url, archive, name="test_roads")

    assert (result.kind, result.loaded, result.problems) == ("line", 1, [])
    with closing(connect(db_url)) as conn, conn.cursor() as cur:
        cur.execute('SELECT "名称", ST_AsBinary(geom) FROM user_layers.test_roads')
        name, wkb = cur.fetchone()
    start, end = shapely.from_wkb(bytes(wkb)).coords
    assert name == "测试路"
    assert max(abs(start[0] - a[0]), abs(start[1] - a[1]), abs(end[0] - b[0]), abs(end[1] - b[1])) < 1e-7


def test_names_are_validated_and_an_existing_layer_needs_replace(db_url, tmp_path, cleanup):
    _, path = grid_file(db_url, tmp_path / "grid.geojson")
    for bad in ("Bad-Name", "1grid", "entities", "x" * 42, "drop table"):
        with pytest.raises(BadRequest):
            import_as(db_url, path, name=bad)
    import_as(db_url, path, name="test_grid")
    with pytest.raises(BadRequest, match="已存在"):
        import_as(db_url, path, name="test_grid")
    assert import_as(db_url, path, name="test_grid", replace=True, title="新标题").loaded == 2
    no_prj = tmp_path / "noprj.shp"  # a Shapefile without .prj: never guess the CRS
    x, y = point_in(db_url, "440106")
    with pytest.warns(UserWarning):
        gpd.GeoDataFrame({"a": [1]}, geometry=[box(x, y, x + 0.01, y + 0.01)]).to_file(no_prj)
    with pytest.raises(BadRequest, match="--crs"):
        import_as(db_url, no_prj, name="test_zones")
    assert import_as(db_url, no_prj, name="test_zones", crs="gcj02").loaded == 1


def test_cli_imports_a_layer_that_gdal_reads_over_ogc_api(live_url, tokens, db_url, tmp_path, monkeypatch,
                                                           capsys, cleanup):
    monkeypatch.setenv("DATABASE_URL", db_url)
    _, path = grid_file(db_url, tmp_path / "grid.geojson")
    gcj = tmp_path / "grid.gpkg"
    gpd.read_file(path).to_file(gcj, driver="GPKG")

    assert cli.main(["import", "layer", str(gcj), "--name", "test_cli_layer", "--title", "命令行网格",
                     "--report", str(tmp_path / "layer-report.csv")]) == 0
    assert "已导入 2 个要素" in capsys.readouterr().out
    assert "缺少几何" in (tmp_path / "layer-report.csv").read_text(encoding="utf-8-sig")

    env = {**os.environ, "GDAL_HTTP_HEADERS": f"Authorization: Bearer {tokens['insp_tianhe']}"}
    result = subprocess.run(["ogrinfo", "-ro", "-al", "-so", f"OAPIF:{live_url}/ogc", "test_cli_layer"],
                            env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert int(re.search(r"^Feature Count: (\d+)$", result.stdout, re.M).group(1)) == 2
    assert "网格编码" in result.stdout


def test_cli_lists_and_drops_an_imported_layer(db_url, tmp_path, monkeypatch, capsys, cleanup):
    monkeypatch.setenv("DATABASE_URL", db_url)
    _, path = grid_file(db_url, tmp_path / "grid.geojson")
    import_as(db_url, path, name="test_drop_me", title="待删网格")
    assert cli.main(["layer", "list"]) == 0
    assert "test_drop_me" in capsys.readouterr().out
    assert cli.main(["layer", "drop", "test_drop_me"]) == 0
    assert "已删除" in capsys.readouterr().out
    assert one(db_url, "SELECT count(*) FROM user_layers.catalogue WHERE name = 'test_drop_me'") == 0
    assert one(db_url, "SELECT to_regclass('user_layers.test_drop_me') IS NULL") is True
    assert one(db_url, "SELECT count(*) FROM audit_log WHERE action = 'drop_layer' AND object_id = 'test_drop_me'") == 1
    assert cli.main(["layer", "drop", "test_drop_me"]) == 2
    assert "没有名为 test_drop_me" in capsys.readouterr().err
