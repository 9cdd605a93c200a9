"""``zhengtu import entities|layer`` and ``zhengtu export``: thin wrappers over data.imports/exports.

Kept apart from ``cli.py`` so that file only gains two lines; everything here parses arguments,
opens the owner's connection, calls one plain function and prints its summary.
"""

from __future__ import annotations

import argparse
import getpass
from contextlib import closing
from pathlib import Path

from geo.db import connect, resolve_url
from geo.settings import Settings

CRS_HELP = "wgs84|cgcs2000|gcj02|bd09|EPSG:NNNN（默认：文件自带，否则 WGS 84）"


def _import_entities(args: argparse.Namespace, settings: Settings) -> int:
    from data.imports.entities import ImportOptions, import_entities
    from data.imports.report import write_report
    from layers.cells import rebuild_entity_cells

    options = ImportOptions(crs=args.crs, columns=args.columns, dry_run=args.dry_run,
                            batch_size=args.batch_size, actor=f"cli:{getpass.getuser()}")
    report = Path(args.report) if args.report else Path(args.file).with_suffix(".report.csv")
    with closing(connect(resolve_url(settings, start=True))) as conn:
        summary = import_entities(conn, args.file, options)
        if not args.dry_run and (summary.inserted or summary.updated):
            print(f"聚合网格已刷新 tile pyramid rebuilt: {rebuild_entity_cells(conn)} rows")
    print(summary.text())
    if summary.problems:
        write_report(summary.problems, report)
        print(f"问题行报告 report of rejected rows: {report}")
    return 0


def _import_layer(args: argparse.Namespace, settings: Settings) -> int:
    from data.imports.layers import LayerOptions, import_layer
    from data.imports.report import write_report

    options = LayerOptions(name=args.name, title=args.title, crs=args.crs, scope=args.scope,
                           replace=args.replace, actor=f"cli:{getpass.getuser()}")
    with closing(connect(resolve_url(settings, start=True))) as conn:
        result = import_layer(conn, args.file, options)
    print(result.text())
    if result.problems:
        report = Path(args.report) if args.report else Path(args.file).with_suffix(".report.csv")
        write_report(result.problems, report)
        print(f"问题要素报告 report of rejected features: {report}")
    return 0


LIST_LAYERS = """
SELECT name, title_zh, geometry_kind, scope, feature_count, imported_by, updated_at
FROM user_layers.catalogue ORDER BY name
"""


def _layer(args: argparse.Namespace, settings: Settings) -> int:
    from accounts import audit
    from data.imports.layers import drop_layer
    from geo.errors import NotFound

    with closing(connect(resolve_url(settings, start=True))) as conn:
        if args.action == "drop":
            if not args.name:
                raise NotFound("请给出图层名 / give a layer name: zhengtu layer drop NAME")
            if not drop_layer(conn, args.name):
                raise NotFound(f"没有名为 {args.name} 的导入图层 / no imported layer {args.name}")
            with conn:
                audit.record(conn, f"cli:{getpass.getuser()}", "drop_layer", object_type="user_layers",
                             object_id=args.name)
            print(f"已删除导入图层 dropped layer {args.name}")
            return 0
        with conn.cursor() as cur:
            cur.execute(LIST_LAYERS)
            rows = cur.fetchall()
    for name, title, kind, scope, count, by, at in rows:
        print(f"{name:<24} {title:<16} {kind:<8} {scope:<7} {count:>8} 要素  {by or ''}  {at:%Y-%m-%d %H:%M}")
    print(f"共 {len(rows)} 个导入图层 / {len(rows)} imported layer(s)")
    return 0


def _export(args: argparse.Namespace, settings: Settings) -> int:
    from data.exports import ExportOptions, export_layer

    options = ExportOptions(fmt=args.format, bbox=args.bbox, crs=args.crs, output=args.output)
    with closing(connect(resolve_url(settings, start=True))) as conn:
        path, count = export_layer(conn, args.layer, options)
    print(f"已导出 exported {count} 个要素 features → {path}")
    return 0


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """Register ``import`` (entities, layer) and ``export`` on the ``zhengtu`` parser."""
    imp = sub.add_parser("import", help="导入数据 / import a register or a layer")
    kinds = imp.add_subparsers(dest="kind", required=True)
    ent = kinds.add_parser("entities", help="导入监管对象名录 / import regulated entities")
    ent.add_argument("file")
    ent.add_argument("--crs", help=CRS_HELP)
    ent.add_argument("--columns", help='列映射，如 "企业名称=name,X=lon" / header=field overrides')
    ent.add_argument("--dry-run", action="store_true", help="只校验不写入 / validate only")
    ent.add_argument("--report", help="问题行报告 CSV 路径 / report CSV path")
    ent.add_argument("--batch-size", type=int, default=50_000)
    ent.set_defaults(func=_import_entities)
    lay = kinds.add_parser("layer", help="导入图层（面、线、点）/ import a layer")
    lay.add_argument("file")
    lay.add_argument("--name", required=True, help="图层名：小写字母开头，[a-z0-9_]，至多 41 位")
    lay.add_argument("--title", help="标题 / title")
    lay.add_argument("--crs", help=CRS_HELP)
    lay.add_argument("--scope", choices=["shared", "region"], default="shared",
                     help="shared：全体工作人员可见；region：按要素所在区县受辖区限制")
    lay.add_argument("--replace", action="store_true", help="替换同名图层 / replace a layer")
    lay.add_argument("--report", help="问题要素报告 CSV 路径 / report CSV path")
    lay.set_defaults(func=_import_layer)
    layer = sub.add_parser("layer", help="导入图层的列表与删除 / list or drop imported layers")
    layer.add_argument("action", choices=["list", "drop"])
    layer.add_argument("name", nargs="?")
    layer.set_defaults(func=_layer)
    exp = sub.add_parser("export", help="导出图层 / export a layer")
    exp.add_argument("layer")
    exp.add_argument("--format", required=True, choices=["gpkg", "geojson", "csv", "xlsx", "shp"])
    exp.add_argument("--bbox", help="minx,miny,maxx,maxy（WGS 84）")
    exp.add_argument("--crs", default="wgs84", help="gcj02|wgs84|bd09|EPSG:NNNN")
    exp.add_argument("--output", help="输出文件 / output path")
    exp.set_defaults(func=_export)


