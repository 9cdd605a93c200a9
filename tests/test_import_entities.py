"""Importing a register: Chinese headers, GBK, GCJ-02, XLSX, GeoPackage, zipped Shapefile, bad rows.

Every fixture file is written by the test itself. Imported entities get USCCs of organisation type
'3', which the demo generator never makes, and are deleted again after each test.
"""

from __future__ import annotations

import csv
import math
import re
import zipfile
from contextlib import closing

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.select import Select
from selenium.webdriver.support.wait import WebDriverWait

from dashboard import cli
from data.imports.entities import ImportOptions, import_entities
from data.imports.readers import detect_encoding
from data.imports.report import write_report
from geo.crs import wgs84_to_bd09, wgs84_to_gcj02
from geo.db import connect
from tests.browser import sign_in
from tests.conftest import login
from tests.import_builders import count_entities, forget, point_in, stored, usccs

HEADERS = ["统一社会信用代码", "企业名称", "经营地址", "经度", "纬度", "行业类别", "风险等级", "法定代表人",
           "联系电话", "许可证号"]
QUIET = {"progress": False}


@pytest.fixture
def cleanup(db_url):
    yield
    forget(db_url)


def write_csv(path, rows, headers=HEADERS, encoding="gbk"):
    with path.open("w", encoding=encoding, newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(headers)
        writer.writerows(rows)
    return path


def register_row(code, name, lon, lat, category="餐饮服务", risk="B"):
    def text(v):
        return v if isinstance(v, str) else repr(v)
    return [code, name, "广州市测试路1号", text(lon), text(lat), category, risk, "张三",
            "13800138000", "JY14401060000001"]


def run(db_url, path, **options):
    with closing(connect(db_url)) as conn:
        return import_entities(conn, path, ImportOptions(**{**QUIET, **options}))


def test_gbk_csv_with_gcj02_lands_in_the_right_districts(db_url, tmp_path, cleanup):
    districts = ["440106", "440104", "440304"]
    codes = usccs(3)
    truth = {code: point_in(db_url, adcode) for code, adcode in zip(codes, districts, strict=True)}
    rows = [register_row(code, f"测试餐馆{i}", *wgs84_to_gcj02(*truth[code]))
            for i, code in enumerate(codes)]
    path = write_csv(tmp_path / "名录.csv", rows)
    assert detect_encoding(path) == "gb18030"  # no BOM, not UTF-8

    summary = run(db_url, path, crs="gcj02")

    assert summary.counts() == {"read": 3, "inserted": 3, "updated": 0, "unchanged": 0, "rejected": 0}
    for code, adcode in zip(codes, districts, strict=True):
        district, lon, lat, name, category, risk, _ = stored(db_url, code)
        assert district == adcode
        assert (category, risk) == ("catering", "B") and name.startswith("测试餐馆")
        # converted back to WGS 84: within a millimetre of the true point (GCJ-02 is ~500 m off)
        assert math.dist((lon, lat), truth[code]) < 1e-8


def test_bad_rows_are_reported_each_with_its_reason_and_good_rows_load(db_url, tmp_path, cleanup):
    codes = usccs(14)
    x, y = point_in(db_url, "440106")
    bad_check = codes[2][:17] + ("0" if codes[2][17] != "0" else "1")
    rows = [
        register_row(codes[0], "好店甲", x, y),                               # 2 good
        register_row(codes[1], "好店乙", x + 0.0001, y),                      # 3 good
        register_row(bad_check, "校验错", x, y),                              # 4 bad check character
        register_row(codes[3], "", x, y),                                     # 5 name missing
        register_row(codes[4], "无坐标", "", y),                               # 6 no longitude
        register_row(codes[5], "非数字", "东经113度", y),                      # 7 not a number
        register_row(codes[6], "无穷大", "inf", y),                           # 8 infinite
        register_row(codes[7], "颠倒", y, x),                                 # 9 lat/lon swapped
        register_row(codes[8], "北京", 116.397, 39.909),                      # 10 outside Guangdong
        register_row(codes[9], "类别错", x, y, category="宠物美容"),           # 11 unknown category
        register_row(codes[10], "等级错", x, y, risk="E"),                    # 12 bad risk class
        register_row(codes[0], "重复", x, y),                                 # 13 duplicate of row 2
        register_row(codes[11], "好店丙", x, y + 0.0001, category="drugs", risk="d"),  # 14 good
    ]
    path = write_csv(tmp_path / "bad.csv", rows, encoding="utf-8-sig")
    before = count_entities(db_url)

    summary = run(db_url, path)

    reasons = {p.row: p.reason for p in summary.problems}
    assert "校验位错误" in reasons[4]
    assert "缺少必填项：名称" in reasons[5]
    assert "缺少坐标" in reasons[6]
    assert "不是数字" in reasons[7]
    assert "不是有限数" in reasons[8]
    assert "经纬度疑似颠倒" in reasons[9]
    assert "不在已加载的行政区域内" in reasons[10]
    assert "未知类别" in reasons[11]
    assert "风险等级" in reasons[12]
    assert "重复" in reasons[13] and "第 2 行" in reasons[13]
    assert set(reasons) == set(range(4, 14))
    assert summary.counts() == {"read": 13, "inserted": 3, "updated": 0, "unchanged": 0, "rejected": 10}
    assert count_entities(db_url) == before + 3
    assert stored(db_url, codes[11])[4:6] == ("drugs", "D")
    assert stored(db_url, codes[7]) is None and stored(db_url, codes[8]) is None

    report = write_report(summary.problems, tmp_path / "report.csv")
    table = pd.read_csv(report, encoding="utf-8-sig", dtype=str)
    assert list(table.columns) == ["行号 row", "列 column", "值 value", "原因 reason"]
    by_row = dict(zip(table["行号 row"].astype(int), zip(table["列 column"], table["值 value"], strict=True),
                      strict=True))
    assert by_row[4] == ("统一社会信用代码", bad_check)
    assert by_row[7] == ("经度", "东经113度")


def test_reimport_changes_nothing_and_a_changed_row_is_an_update(db_url, tmp_path, cleanup):
    codes = usccs(3)
    x, y = point_in(db_url, "440106")
    rows = [register_row(code, f"重导{i}", *wgs84_to_bd09(x + i * 1e-4, y)) for i, code in enumerate(codes)]
    path = write_csv(tmp_path / "again.csv", rows)
    assert run(db_url, path, crs="bd09").inserted == 3
    versions = _row_versions(db_url, codes)

    again = run(db_url, path, crs="bd09")

    assert again.counts() == {"read": 3, "inserted": 0, "updated": 0, "unchanged": 3, "rejected": 0}
    assert _row_versions(db_url, codes) == versions  # not even rewritten with the same values
    rows[1][1] = "改名后"
    changed = run(db_url, write_csv(tmp_path / "changed.csv", rows), crs="bd09")
    assert changed.counts() == {"read": 3, "inserted": 0, "updated": 1, "unchanged": 2, "rejected": 0}
    assert stored(db_url, codes[1])[3] == "改名后"


def _row_versions(db_url, codes):
    with closing(connect(db_url)) as conn, conn.cursor() as cur:
        cur.execute("SELECT uscc, xmin::text FROM entities WHERE uscc = ANY(%s) ORDER BY uscc", (codes,))
        return cur.fetchall()


def test_dry_run_validates_everything_and_writes_nothing(db_url, tmp_path):
    codes = usccs(2)
    x, y = point_in(db_url, "440304")
    path = write_csv(tmp_path / "dry.csv", [register_row(codes[0], "试运行", x, y),
                                            register_row(codes[1], "境外", 100.0, 13.7)])
    before = count_entities(db_url)

    summary = run(db_url, path, dry_run=True)

    assert summary.counts() == {"read": 2, "inserted": 1, "updated": 0, "unchanged": 0, "rejected": 1}
    assert "不在已加载的行政区域内" in summary.problems[0].reason
    assert count_entities(db_url) == before and stored(db_url, codes[0]) is None


def test_xlsx_and_a_column_mapping(db_url, tmp_path, cleanup):
    codes = usccs(2)
    points = [point_in(db_url, "440303"), point_in(db_url, "440305")]
    frame = pd.DataFrame({"信用代码": codes, "单位": ["表格甲", "表格乙"], "住所": ["深圳甲", "深圳乙"],
                          "X坐标": [p[0] for p in points], "Y坐标": [p[1] for p in points],
                          "类别": ["药品零售", "hazchem"], "风险分级": ["A级", "C"],
                          "成立日期": ["2020-01-02", "2021/3/4"]})
    path = tmp_path / "名录.xlsx"
    frame.to_excel(path, index=False)

    summary = run(db_url, path, columns="单位=name,X坐标=lon,Y坐标=lat")

    assert summary.counts()["inserted"] == 2, summary.problems
    assert stored(db_url, codes[0])[0] == "440303" and stored(db_url, codes[1])[0] == "440305"
    assert stored(db_url, codes[1])[4:6] == ("hazchem", "C")
    with closing(connect(db_url)) as conn, conn.cursor() as cur:
        cur.execute("SELECT registered_on::text FROM entities WHERE uscc = %s", (codes[1],))
        assert cur.fetchone()[0] == "2021-03-04"


def test_geopackage_of_points(db_url, tmp_path, cleanup):
    codes = usccs(2)
    points = [point_in(db_url, "440113"), point_in(db_url, "440114")]
    frame = gpd.GeoDataFrame({"uscc": codes, "name": ["包甲", "包乙"], "address": ["番禺", "花都"],
                              "category": ["retail", "food"], "risk_class": ["A", "B"]},
                             geometry=shapely.points(points), crs="EPSG:4326")
    path = tmp_path / "points.gpkg"
    frame.to_file(path, driver="GPKG")

    summary = run(db_url, path)

    assert summary.counts()["inserted"] == 2, summary.problems
    assert [stored(db_url, c)[0] for c in codes] == ["440113", "440114"]


def test_zipped_shapefile_with_a_projected_prj(db_url, tmp_path, cleanup):
    codes = usccs(2)
    truth = [point_in(db_url, "440106"), point_in(db_url, "440105")]
    frame = gpd.GeoDataFrame({"统一代码": codes, "名称": ["形甲", "形乙"], "地址": ["天河", "海珠"],
                              "类别": ["餐饮服务", "食品经营"], "风险等级": ["B", "C"]},
                             geometry=shapely.points(truth), crs="EPSG:4326").to_crs("EPSG:4547")
    folder = tmp_path / "shp"
    folder.mkdir()
    frame.to_file(folder / "register.shp", encoding="GBK")  # as Chinese desktop GIS writes it
    assert "3-degree" in (folder / "register.prj").read_text() or "114E" in (folder / "register.prj").read_text()
    archive = tmp_path / "register.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for part in folder.iterdir():
            zf.write(part, part.name)

    summary = run(db_url, archive)

    assert summary.counts()["inserted"] == 2, summary.problems
    for code, point, adcode in zip(codes, truth, ["440106", "440105"], strict=True):
        district, lon, lat, *_ = stored(db_url, code)
        assert district == adcode and math.dist((lon, lat), point) < 1e-7


def test_cli_imports_with_report_and_summary(db_url, tmp_path, monkeypatch, capsys, cleanup):
    monkeypatch.setenv("DATABASE_URL", db_url)
    codes = usccs(2)
    x, y = point_in(db_url, "440106")
    path = write_csv(tmp_path / "cli.csv", [register_row(codes[0], "命令行", *wgs84_to_gcj02(x, y)),
                                            register_row(codes[1], "坏等级", x, y, risk="Z")])
    report = tmp_path / "out" / "report.csv"

    assert cli.main(["import", "entities", str(path), "--crs", "gcj02", "--dry-run",
                     "--report", str(report)]) == 0
    assert "试运行" in capsys.readouterr().out and stored(db_url, codes[0]) is None

    assert cli.main(["import", "entities", str(path), "--crs", "gcj02", "--report", str(report)]) == 0
    out = capsys.readouterr().out
    assert "新增 inserted 1" in out and "拒绝 rejected 1" in out and "聚合网格" in out
    assert stored(db_url, codes[0])[0] == "440106"
    assert "风险等级" in report.read_text(encoding="utf-8-sig")
    with closing(connect(db_url)) as conn, conn.cursor() as cur:
        cur.execute("SELECT sum(n) FROM entity_cells WHERE z = 12")  # the pyramid counts the new one
        cells = cur.fetchone()[0]
    assert cells == count_entities(db_url)


def test_cli_refuses_a_file_without_required_columns(db_url, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", db_url)
    path = write_csv(tmp_path / "thin.csv", [["x", "y"]], headers=["名称", "地址"])
    assert cli.main(["import", "entities", str(path)]) == 2
    assert "缺少必需的列" in capsys.readouterr().err


def test_upload_page_dry_run_then_load_with_a_downloadable_report(app, db_url, tmp_path, cleanup):
    client = app.server.test_client()
    assert login(client, "t_admin_gd").status_code == 303
    codes = usccs(2)
    x, y = point_in(db_url, "440106")
    path = write_csv(tmp_path / "upload.csv", [register_row(codes[0], "网页导入", *wgs84_to_gcj02(x, y)),
                                               register_row(codes[1], "坏代码", x, y)])
    codes_bad = path.read_bytes().replace(codes[1].encode(), (codes[1][:17] + "?").encode())
    path.write_bytes(codes_bad)
    page = client.get("/admin/import")
    assert page.status_code == 200 and "导入监管对象名录" in page.get_data(as_text=True)
    csrf = client.get_cookie("_csrf_token").value

    def post(dry_run, token=csrf):
        data = {"csrf_token": token, "crs": "gcj02", "file": (path.open("rb"), "名录.csv")}
        if dry_run:
            data["dry_run"] = "1"
        return client.post("/admin/import", data=data, content_type="multipart/form-data")

    assert post(True, token="forged").status_code == 403
    dry = post(True)
    text = dry.get_data(as_text=True)
    assert dry.status_code == 200 and "试运行" in text and 'id="zt-import-inserted">1<' in text
    assert stored(db_url, codes[0]) is None
    real = post(False).get_data(as_text=True)
    assert 'id="zt-import-inserted">1<' in real and 'id="zt-import-rejected">1<' in real
    assert stored(db_url, codes[0])[0] == "440106"
    link = re.search(r'href="(/admin/import/report/[0-9a-f]{32}\.csv)"', real).group(1)
    report = client.get(link)
    assert report.status_code == 200 and "非法字符" in report.get_data().decode("utf-8-sig")
    inspector = app.server.test_client()
    login(inspector, "insp_tianhe")
    assert inspector.get(link).status_code == 403 and inspector.get("/admin/import").status_code == 403


@pytest.mark.browser
def test_upload_page_in_a_browser(driver, live_url, db_url, tmp_path, cleanup):
    codes = usccs(1)
    x, y = point_in(db_url, "440106")
    path = write_csv(tmp_path / "浏览器.csv", [register_row(codes[0], "浏览器导入", *wgs84_to_gcj02(x, y)),
                                             register_row(codes[0], "重复行", x, y)])
    sign_in(driver, live_url, "t_admin_gd")
    driver.get(f"{live_url}/admin/import")
    driver.find_element(By.ID, "zt-import-file").send_keys(str(path))
    Select(driver.find_element(By.ID, "zt-import-crs")).select_by_value("gcj02")
    driver.find_element(By.ID, "zt-import-submit").click()
    WebDriverWait(driver, 30).until(lambda d: d.find_elements(By.ID, "zt-import-result"))
    assert driver.find_element(By.ID, "zt-import-inserted").text == "1"  # dry run: would insert
    assert driver.find_element(By.ID, "zt-import-rejected").text == "1"
    assert "重复" in driver.find_element(By.CLASS_NAME, "zt-import-problems").text
    driver.save_screenshot(str(tmp_path.parent / "import-page-desk.png"))
    assert stored(db_url, codes[0]) is None
    driver.find_element(By.ID, "zt-import-file").send_keys(str(path))
    Select(driver.find_element(By.ID, "zt-import-crs")).select_by_value("gcj02")
    driver.find_element(By.ID, "zt-import-dry").click()  # untick: load for real
    driver.find_element(By.ID, "zt-import-submit").click()
    # the form posts and the page is replaced: the old result element may go stale while we look
    WebDriverWait(driver, 30, ignored_exceptions=(StaleElementReferenceException, NoSuchElementException)).until(
        lambda d: "试运行" not in d.find_element(By.ID, "zt-import-result").text)
    assert stored(db_url, codes[0])[0] == "440106"
    driver.set_window_size(390, 844)
    driver.save_screenshot(str(tmp_path.parent / "import-page-phone.png"))


def test_a_uscc_registered_in_another_jurisdiction_is_reported_not_a_failed_batch(db_url, tmp_path, cleanup):
    """Under row security (the upload page) a register row whose USCC belongs to another region's entity
    is one reported row; the rest of the batch loads."""
    from geo.db import Database

    with closing(connect(db_url)) as conn, conn.cursor() as cur:
        cur.execute("SELECT uscc FROM entities WHERE district_adcode = '440106' ORDER BY id LIMIT 1")
        tianhe_code = cur.fetchone()[0]
    fresh = usccs(1)[0]
    x, y = point_in(db_url, "440104")
    path = write_csv(tmp_path / "越秀.csv", [register_row(tianhe_code, "别区的主体", x, y),
                                           register_row(fresh, "越秀新主体", x + 0.0001, y)], encoding="utf-8")
    context = {"region": "440104", "user": "yuexiu_admin", "role": "admin"}
    database = Database(db_url)
    try:
        with database.connection(context) as conn:
            summary = import_entities(conn, path, ImportOptions(progress=False, region="440104", context=context))
    finally:
        database.close()
    assert summary.inserted == 1 and summary.rejected == 1
    (problem,) = summary.problems
    assert problem.value == tianhe_code and "已登记在其他辖区" in problem.reason and problem.row == 2
    assert stored(db_url, fresh)[0] == "440104"
    assert stored(db_url, tianhe_code)[0] == "440106"  # untouched
