"""双随机 draws: reproducible from (plans, register snapshot, seed), fair, verifiable, and turned into tasks."""

from __future__ import annotations

import math
import os
from collections import Counter
from contextlib import closing
from decimal import Decimal

import numpy as np
import psycopg2
import pytest

from dashboard.cli import main as cli
from enforcement import draws
from enforcement.draw_core import (
    DrawRow,
    PlanSpec,
    Register,
    compute_draw,
    first_difference,
    parse_ratios,
    quota,
)
from geo.db import connect
from geo.errors import BadRequest, Forbidden, NotFound

SEED_A, SEED_B = bytes(range(32)), bytes(range(1, 33))
DEPTS = ("市场监督管理局", "应急管理局")


def synthetic(n: int = 6000, conflicts=((), ()), history=((), ())) -> Register:
    """Entities in three districts of 广州 with four risk classes; 8 officers per district, two departments."""
    rng = np.random.default_rng(5)
    ids = np.arange(1, n + 1)
    uscc = np.array([f"9144010{i:010d}X" for i in range(n)])
    districts = rng.choice(["440106", "440104", "440103"], n)
    categories = rng.choice(["food", "drugs", "catering"], n)
    risks = rng.choice(list("ABCD"), n, p=[.4, .3, .2, .1])
    officer_ids = np.arange(1, 25)
    departments = np.array([DEPTS[i % 2] for i in range(24)])
    regions = np.repeat(["440106", "440104", "440103"], 8)
    return Register.build((ids, uscc, districts, categories, risks), (officer_ids, departments, regions),
                          conflicts, history)


def plan(plan_id=1, region="4401", department=None, categories=(), ratios="A=0.05,B=0.1,C=0.2,D=0.5"):
    return PlanSpec(plan_id, region, department, tuple(categories), parse_ratios(ratios))


# --- the pure draw ---------------------------------------------------------------------------------

def test_same_inputs_and_seed_give_the_same_list_another_seed_another():
    register = synthetic()
    first = compute_draw([plan()], register, SEED_A)
    again = compute_draw([plan()], Register.from_bytes(register.to_bytes()), SEED_A)
    other = compute_draw([plan()], register, SEED_B)
    assert first == again and len(first) > 100
    assert [r.entity_id for r in other] != [r.entity_id for r in first]
    assert set(r.entity_id for r in other) != set(r.entity_id for r in first)


def test_ratios_are_honoured_per_risk_class_with_half_up_rounding():
    register = synthetic()
    spec = plan(categories=("food", "drugs"), ratios="A=0.013,B=0.05,C=0.125,D=0.5")
    rows = compute_draw([spec], register, SEED_A)
    eligible = np.isin(register["category"], [b"food", b"drugs"])
    by_id = dict(zip(register["entity_id"].tolist(), register["risk"].tolist(), strict=True))
    drawn = Counter(by_id[r.entity_id].decode() for r in rows)
    for risk in "ABCD":
        n = int((eligible & (register["risk"] == risk.encode())).sum())
        assert drawn[risk] == quota(n, spec.ratios[risk]) == int(Decimal(n) * spec.ratios[risk] + Decimal("0.5"))
    cats = dict(zip(register["entity_id"].tolist(), register["category"].tolist(), strict=True))
    assert {cats[r.entity_id] for r in rows} <= {b"food", b"drugs"}
    assert quota(30, Decimal("0.05")) == 2 and quota(29, Decimal("0.05")) == 1  # 1.5 → 2, 1.45 → 1


def test_bad_ratios_are_refused_with_a_message():
    for bad in ("A=1.5", "E=0.1", "A=x", "A0.1", "A=0,B=0"):
        with pytest.raises(ValueError, match="比例|风险等级"):
            parse_ratios(bad)


def test_no_conflicted_inspector_is_ever_drawn():
    free = compute_draw([plan()], synthetic(), SEED_A)
    # declare a conflict for each officer of the first 40 rows, on that row's entity
    pairs = [(o, r.entity_id) for r in free[:40] for o in r.officers]
    register = synthetic(conflicts=([p[0] for p in pairs], [p[1] for p in pairs]))
    rows = compute_draw([plan()], register, SEED_A)
    declared = set(pairs)
    assert all((o, r.entity_id) not in declared for r in rows for o in r.officers)
    assert [r.entity_id for r in rows] == [r.entity_id for r in free]  # entities do not depend on officers


def test_no_inspector_twice_in_a_row_on_the_same_entity():
    first = compute_draw([plan(ratios="A=0.5,B=0.5,C=0.5,D=0.5")], synthetic(), SEED_A)
    history = ([r.entity_id for r in first for _ in r.officers], [o for r in first for o in r.officers])
    second = compute_draw([plan(ratios="A=0.5,B=0.5,C=0.5,D=0.5")], synthetic(history=history), SEED_B)
    before = {r.entity_id: set(r.officers) for r in first}
    again = [r for r in second if r.entity_id in before]
    assert len(again) > 500
    assert all(not before[r.entity_id] & set(r.officers) for r in again)


def test_workload_is_balanced_within_each_pool():
    register = synthetic()
    rows = compute_draw([plan(department=DEPTS[0])], register, SEED_A)
    districts = dict(zip(register["entity_id"].tolist(), register["district"].tolist(), strict=True))
    for district in (b"440106", b"440104", b"440103"):
        visits = [r for r in rows if districts[r.entity_id] == district]
        load = Counter(o for r in visits for o in r.officers)
        officers = 4  # 8 per district, half of them in the department
        assert len(load) == officers
        assert max(load.values()) <= math.ceil(2 * len(visits) / officers)
        assert max(load.values()) - min(load.values()) <= 1
        assert all(len(set(r.officers)) == 2 for r in visits)


def test_joint_draw_one_visit_per_entity_one_task_per_department():
    register = synthetic()
    market = plan(1, department=DEPTS[0], ratios="A=0.05,B=0.1,C=0.2,D=0.3")
    safety = plan(2, department=DEPTS[1], ratios="A=0.1,B=0.1,C=0.1,D=0.4")
    rows = compute_draw([market, safety], register, SEED_A)
    alone = {p.plan_id: {r.entity_id for r in compute_draw([p], register, SEED_A)} for p in (market, safety)}
    # each department samples exactly what it would sample alone: its ratios hold in the joint draw
    for p in (market, safety):
        assert {r.entity_id for r in rows if r.plan_id == p.plan_id} == alone[p.plan_id]
    shared = alone[1] & alone[2]
    assert shared  # common keys make the samples overlap: one visit covers both departments
    visits = [r.entity_id for r in rows]
    # one visit per entity: an entity's tasks are adjacent, at most one per department
    firsts = list(dict.fromkeys(visits))
    assert visits == [e for e in firsts for _ in range(visits.count(e))]
    for entity in shared:
        tasks = [r for r in rows if r.entity_id == entity]
        assert sorted(r.department for r in tasks) == sorted(DEPTS)
        ids = {o for r in tasks for o in r.officers}
        assert len(ids) == 4  # officers drawn per department, none twice on the visit
    officer_dept = dict(zip(register["officer_id"].tolist(), register["officer_department"].tolist(), strict=True))
    assert all(officer_dept[o] == r.department for r in rows for o in r.officers)


def test_first_difference_names_the_row():
    rows = compute_draw([plan()], synthetic(), SEED_A)
    changed = list(rows)
    changed[11] = DrawRow(12, rows[11].entity_id, 1, None, (rows[11].officers[0], 999))
    message = first_difference(rows, changed)
    assert message.startswith("第 12 行不同: 应为 entity") and "999" in message
    assert first_difference(rows, rows) is None
    assert "第 " in first_difference(rows, rows[:-1])


# --- in the database ---------------------------------------------------------------------------------

def as_caller(conn, region: str, user: str = "t_admin_gd", role: str = "admin") -> None:
    with conn.cursor() as cur:
        cur.execute("SELECT set_config('zhengtu.region', %s, true), set_config('zhengtu.user', %s, true), "
                    "set_config('zhengtu.role', %s, true)", (region, user, role))


def test_plan_draw_tasks_and_verify(conn):
    as_caller(conn, "4401")
    with conn.cursor() as cur:  # an officer of 天河 linked to the inspector's login
        cur.execute("UPDATE officers SET username = 'insp_tianhe' WHERE id = (SELECT min(id) FROM officers "
                    "WHERE region_adcode = '440106')")
    created = draws.create_plan(conn, "t_admin_gd", name="天河区2026年第四季度双随机抽查", region="440106",
                                ratios="A=0.3,B=0.3,C=0.4,D=0.5", period_from="2026-11-25", period_to="2026-12-31")
    assert created["status"] == "published" and len(created["seed_hash"]) == 64
    outcome = draws.run_draw(conn, created["id"], "t_admin_gd")
    plan_row = draws.get_plan(conn, created["id"])
    assert plan_row["status"] == "drawn" and plan_row["seed"] == outcome.seed_hex
    assert draws.seed_hash(bytes.fromhex(plan_row["seed"])) == created["seed_hash"]
    assert outcome.rows > 5 and len(outcome.tasks) == outcome.rows
    with conn.cursor() as cur:
        cur.execute("SELECT t.kind, t.assignees, t.assigned_users, t.due_date, t.district_adcode, r.officer_ids "
                    "FROM draw_results r JOIN inspection_tasks t ON t.id = r.task_id WHERE r.plan_id = %s",
                    (created["id"],))
        tasks = cur.fetchall()
        cur.execute("SELECT count(*) FROM chain_links WHERE chain_key = ANY (%s) AND idx = 0",
                    ([f"task:{t}" for t in outcome.tasks],))
        assert cur.fetchone()[0] == outcome.rows
    assert len(tasks) == outcome.rows
    assert all(k == "random" and a == o and str(d) == "2026-12-31" and dist == "440106"
               for k, a, _, d, dist, o in tasks)
    with conn.cursor() as cur:
        cur.execute("SELECT id FROM officers WHERE username = 'insp_tianhe'")
        linked = cur.fetchone()[0]
    assert all(users == (["insp_tianhe"] if linked in officers else []) for _, officers, users, *_ in tasks)
    assert any(linked in officers for _, officers, *_ in tasks)  # balanced: every officer is drawn
    assert draws.verify_draw(conn, created["id"]) == []
    with pytest.raises(draws.DrawConflict):
        draws.run_draw(conn, created["id"], "t_admin_gd")

    # one changed result row: verify names it
    with conn.cursor() as cur:
        cur.execute("UPDATE draw_results SET officer_ids = ARRAY[officer_ids[1], 999999] "
                    "WHERE plan_id = %s AND seq = 3", (created["id"],))
    problems = draws.verify_draw(conn, created["id"])
    assert problems and problems[0].startswith("第 3 行不同") and "999999" in problems[0]


def test_verify_fails_after_one_changed_register_row(conn):
    as_caller(conn, "4401")
    created = draws.create_plan(conn, "t", name="越秀抽查", region="440104", ratios="A=0.2,B=0.2,C=0.2,D=0.2")
    draws.run_draw(conn, created["id"], "t")
    assert draws.verify_draw(conn, created["id"]) == []
    recorded, register = draws.load_snapshot(conn, created["id"])
    risk = register.arrays["risk"].copy()
    risk[0] = b"D" if risk[0] != b"D" else b"A"
    register.arrays["risk"] = risk
    with conn.cursor() as cur:
        cur.execute("UPDATE draw_snapshots SET data = %s WHERE plan_id = %s",
                    (psycopg2.Binary(register.to_bytes()), created["id"]))
    problems = draws.verify_draw(conn, created["id"])
    assert any("register_hash" in p for p in problems)


def test_second_draw_avoids_the_previous_inspectors_and_conflicts(conn):
    as_caller(conn, "4401")
    first = draws.create_plan(conn, "t", name="第一轮", region="440106", ratios="A=1,B=1,C=1,D=1")
    draws.run_draw(conn, first["id"], "t")
    before = {r.entity_id: set(r.officers) for r in draws.recorded_rows(conn, first["id"])}
    entity = next(iter(before))
    with conn.cursor() as cur:  # one officer declares a conflict with an entity, by USCC
        cur.execute("SELECT id FROM officers WHERE region_adcode = '440106' AND NOT (id = ANY (%s)) "
                    "ORDER BY id LIMIT 1", (list(before[entity]),))
        officer = cur.fetchone()[0]
        cur.execute("INSERT INTO officer_conflicts (officer_id, uscc, reason, district_adcode) "
                    "SELECT %s, uscc, '亲属经营', '440106' FROM entities WHERE id = %s", (officer, entity))
    second = draws.create_plan(conn, "t", name="第二轮", region="440106", ratios="A=1,B=1,C=1,D=1")
    draws.run_draw(conn, second["id"], "t")
    after = draws.recorded_rows(conn, second["id"])
    assert {r.entity_id for r in after} == set(before)  # ratio 1: everyone again
    assert all(not before[r.entity_id] & set(r.officers) for r in after)
    assert all(officer not in r.officers for r in after if r.entity_id == entity)
    assert draws.verify_draw(conn, second["id"]) == []


def test_joint_draw_in_the_database(conn):
    as_caller(conn, "4401")
    market = draws.create_plan(conn, "t", name="市场监管抽查", region="4401", department="市场监督管理局",
                               ratios="A=0.1,B=0.1,C=0.2,D=0.3")
    safety = draws.create_plan(conn, "t", name="应急抽查", region="4401", department="应急管理局",
                               ratios="A=0.1,B=0.1,C=0.2,D=0.3")
    joint = draws.create_joint(conn, "t", [market["id"], safety["id"]])
    with pytest.raises(draws.DrawConflict):
        draws.run_draw(conn, market["id"], "t")
    outcome = draws.run_draw(conn, joint["id"], "t")
    rows = draws.recorded_rows(conn, joint["id"])
    assert outcome.rows == len(rows) > 10
    per_entity = Counter(r.entity_id for r in rows)
    assert max(per_entity.values()) == 2  # some entities are visited once for both departments
    for entity, count in per_entity.items():
        assert sorted(r.plan_id for r in rows if r.entity_id == entity) == sorted(
            {r.plan_id for r in rows if r.entity_id == entity})
        assert count == len({r.department for r in rows if r.entity_id == entity})
    with conn.cursor() as cur:
        cur.execute("SELECT o.department, r.department FROM draw_results r, unnest(r.officer_ids) u(id) "
                    "JOIN officers o ON o.id = u.id WHERE r.plan_id = %s", (joint["id"],))
        assert all(a == b for a, b in cur.fetchall())
    assert {draws.get_plan(conn, p)["status"] for p in (market["id"], safety["id"])} == {"drawn"}
    assert draws.verify_draw(conn, market["id"]) == []  # a member verifies through its joint draw


def test_plan_rules(conn):
    as_caller(conn, "4401")
    with pytest.raises(BadRequest):
        draws.create_plan(conn, "t", name="x", region="4401", ratios="A=2")
    with pytest.raises(BadRequest, match="未知"):
        draws.create_plan(conn, "t", name="x", region="4401", ratios="A=0.1", categories="food,spaceships")
    draft = draws.create_plan(conn, "t", name="草稿", region="4401", ratios="A=0.1", publish=False)
    with pytest.raises(draws.DrawConflict, match="已发布"):
        draws.run_draw(conn, draft["id"], "t")
    assert draws.publish_plan(conn, draft["id"])["status"] == "published"
    with pytest.raises(psycopg2.errors.RaiseException):  # a published plan's promise cannot change
        with conn.cursor() as cur:
            cur.execute("UPDATE draw_plans SET ratios = '{\"A\": \"0.9\"}' WHERE id = %s", (draft["id"],))


def test_app_role_cannot_read_seeds_nor_draw_outside_its_region(db_url):
    with closing(connect(db_url)) as conn:
        as_caller(conn, "4403", "manager_sz", "manager")
        with conn.cursor() as cur:
            cur.execute("SET LOCAL ROLE zhengtu_app")
        with pytest.raises(Forbidden):
            draws.create_plan(conn, "manager_sz", name="越界", region="4401", ratios="A=0.1")
        conn.rollback()
        as_caller(conn, "4403", "manager_sz", "manager")
        with conn.cursor() as cur:
            cur.execute("SET LOCAL ROLE zhengtu_app")
        mine = draws.create_plan(conn, "manager_sz", name="深圳抽查", region="440304", ratios="A=0.5")
        with pytest.raises(psycopg2.errors.InsufficientPrivilege), conn.cursor() as cur:
            cur.execute("SELECT seed FROM draw_seeds WHERE plan_id = %s", (mine["id"],))
        conn.rollback()
        as_caller(conn, "4401", "t_operator_gz", "operator")
        with conn.cursor() as cur:
            cur.execute("SET LOCAL ROLE zhengtu_app")
        with pytest.raises(NotFound):
            draws.get_plan(conn, mine["id"])
        conn.rollback()


def test_cli_create_run_verify(db_url, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", db_url)
    assert cli(["draw", "create", "--region", "440103", "--ratio", "A=0.2,B=0.2,C=0.3,D=0.5",
                "--name", "荔湾区双随机", "--categories", "food,catering,retail,drugs",
                "--from", "2026-11-25", "--to", "2026-12-31"]) == 0
    out = capsys.readouterr().out
    plan_id = int(out.split("plan ")[1].split("（")[0])
    published_hash = out.split("SHA-256: ")[1].split()[0]
    assert len(published_hash) == 64
    assert cli(["draw", "run", str(plan_id)]) == 0
    out = capsys.readouterr().out
    seed = out.split("种子 seed: ")[1].split()[0]
    assert draws.seed_hash(bytes.fromhex(seed)) == published_hash
    assert cli(["draw", "verify", str(plan_id)]) == 0
    assert "OK" in capsys.readouterr().out
    with closing(connect(db_url)) as conn, conn, conn.cursor() as cur:
        cur.execute("UPDATE draw_results SET entity_id = (SELECT max(id) FROM entities) "
                    "WHERE plan_id = %s AND seq = 1", (plan_id,))
    assert cli(["draw", "verify", str(plan_id)]) == 1
    assert "第 1 行不同" in capsys.readouterr().out
    assert cli(["draw", "run", str(plan_id)]) == 2  # twice: refused with a message
    assert "只有已发布" in capsys.readouterr().err
    assert os.environ["DATABASE_URL"] == db_url


@pytest.mark.parametrize("role", ["public", "inspector", "legal_reviewer", "operator", "manager", "admin"])
def test_draws_page_renders_for_its_roles(app, tokens, role):
    import json

    from tests.conftest import BY_ROLE
    from tests.helpers import pages_request

    headers = {} if role == "public" else {"Authorization": f"Bearer {tokens[BY_ROLE[role]]}"}
    response = app.server.test_client().post("/_dash-update-component", json=pages_request("/draws"),
                                             headers=headers)
    text = json.dumps(response.get_json(), ensure_ascii=False)
    assert ("zt-draw-plans" in text) == (role in ("legal_reviewer", "manager", "admin"))
    assert ("zt-draw-create" in text) == (role in ("manager", "admin"))


def test_draws_page_callbacks_create_run_verify(app, tokens, db_url):
    """The desktop page as the browser drives it: create a plan, draw it, verify it (manager of 深圳)."""
    import json

    from tests.helpers import DRAW_READ_CALLBACKS, DRAW_WRITE_CALLBACKS

    client = app.server.test_client()
    headers = {"Authorization": f"Bearer {tokens['manager_sz']}"}
    act = json.loads(json.dumps(next(iter(DRAW_WRITE_CALLBACKS.values()))))
    values = {"zt-draw-name": "福田区页面抽查", "zt-draw-region": "440304", "zt-draw-ratio-A": 0.5,
              "zt-draw-ratio-B": 0.5, "zt-draw-ratio-C": 0.5, "zt-draw-ratio-D": 0.5}
    for state in act["state"]:
        state["value"] = values.get(state["id"], state["value"])
    text = json.dumps(client.post("/_dash-update-component", json=act, headers=headers).get_json(),
                      ensure_ascii=False)
    assert "已创建计划" in text and "福田区页面抽查" in text
    plan_id = int(text.split("已创建计划 ")[1].split("，")[0])

    act["inputs"][0]["value"], act["inputs"][2]["value"] = None, 1
    act["changedPropIds"] = ["zt-draw-run.n_clicks"]
    for state in act["state"]:
        state["value"] = plan_id if state["id"] == "zt-draw-plan" else state["value"]
    text = json.dumps(client.post("/_dash-update-component", json=act, headers=headers).get_json(),
                      ensure_ascii=False)
    assert f"计划 {plan_id} 已抽取" in text

    verify = json.loads(json.dumps(DRAW_READ_CALLBACKS["zt-draw-verify-message.children"]))
    verify["state"][0]["value"] = plan_id
    text = json.dumps(client.post("/_dash-update-component", json=verify, headers=headers).get_json(),
                      ensure_ascii=False)
    assert "zt-draw-verified" in text
    results = json.loads(json.dumps(DRAW_READ_CALLBACKS["zt-draw-results.children"]))
    results["inputs"][0]["value"] = plan_id
    text = json.dumps(client.post("/_dash-update-component", json=results, headers=headers).get_json(),
                      ensure_ascii=False)
    assert "zt-draw-result-table" in text and "440304" not in text.split("zt-draw-result-table")[0][-10:]
    # another region's reviewer cannot see it (row-level security): 广州's legal reviewer
    other = client.post("/_dash-update-component", json=results,
                        headers={"Authorization": f"Bearer {tokens['t_reviewer_gz']}"}).get_json()
    assert "zt-draw-result-table" not in json.dumps(other, ensure_ascii=False)
    # the run through the page made random tasks for the drawn officers
    with closing(connect(db_url)) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*), count(*) FILTER (WHERE t.kind = 'random' AND t.district_adcode = '440304') "
                    "FROM draw_results r JOIN inspection_tasks t ON t.id = r.task_id WHERE r.plan_id = %s",
                    (plan_id,))
        total, random_here = cur.fetchone()
    assert total == random_here > 0


def test_a_plan_cannot_be_inserted_as_drawn(db_url):
    with closing(connect(db_url)) as conn, conn.cursor() as cur:
        cur.execute("SELECT set_config('zhengtu.region', '44', true)")
        cur.execute("SET LOCAL ROLE zhengtu_app")
        with pytest.raises(psycopg2.errors.InsufficientPrivilege):  # the seed column is not the app's to write
            cur.execute("INSERT INTO draw_plans (name, region_adcode, ratios, status, seed_hash, seed) "
                        "VALUES ('假', '44', '{}', 'published', repeat('0', 64), '\\x00'::bytea)")
        conn.rollback()
        cur.execute("SELECT set_config('zhengtu.region', '44', true)")
        with pytest.raises(psycopg2.errors.RaiseException, match="草稿或已发布"):
            cur.execute("INSERT INTO draw_plans (name, region_adcode, ratios, status, seed_hash, register_hash) "
                        "VALUES ('假', '44', '{}', 'published', repeat('0', 64), repeat('1', 64))")
        conn.rollback()


def test_cli_conflict_and_link(db_url, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", db_url)
    with closing(connect(db_url)) as conn, conn.cursor() as cur:
        cur.execute("SELECT o.id, e.uscc FROM officers o JOIN entities e ON e.district_adcode = o.region_adcode "
                    "WHERE o.region_adcode = '440105' ORDER BY o.id, e.id LIMIT 1")
        officer, uscc = cur.fetchone()
    assert cli(["draw", "conflict", "--officer", str(officer), "--uscc", uscc, "--reason", "配偶经营"]) == 0
    assert cli(["draw", "conflict", "--officer", str(officer), "--uscc", "123", "--reason", "x"]) == 2
    assert cli(["draw", "link", "--officer", str(officer), "--user", "t_reviewer_gz"]) == 2  # not an inspector
    assert cli(["draw", "link", "--officer", str(officer), "--user", "insp_yuexiu"]) == 0
    with closing(connect(db_url)) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM officer_conflicts c JOIN entities e ON e.id = c.entity_id "
                    "WHERE c.officer_id = %s AND e.uscc = %s", (officer, uscc))
        assert cur.fetchone()[0] == 1
        cur.execute("SELECT username FROM officers WHERE id = %s", (officer,))
        assert cur.fetchone()[0] == "insp_yuexiu"
    capsys.readouterr()


def test_conflict_declared_on_the_page_is_recorded(client, tokens, db_url):
    """利益冲突申报 from /draws: the USCC check character is verified, the conflict stored in the officer's region."""
    import json

    from tests.conftest import bearer
    from tests.helpers import DRAW_WRITE_CALLBACKS, callback_request, one

    officer = one(db_url, "SELECT min(id) FROM officers WHERE region_adcode = '440106'")
    uscc = one(db_url, "SELECT uscc FROM entities WHERE district_adcode = '440106' ORDER BY id DESC LIMIT 1")

    def declare(code: str, reason: str, user: str = "t_admin_gd") -> tuple[int, str]:
        body = callback_request("zt-draw-conflict-message.children", [("zt-draw-conflict-save", "n_clicks", 1)],
                                [("zt-draw-conflict-officer", "value", officer),
                                 ("zt-draw-conflict-uscc", "value", code),
                                 ("zt-draw-conflict-reason", "value", reason)])
        response = client.post("/_dash-update-component", json=body, headers=bearer(tokens, user))
        return response.status_code, json.dumps(response.get_json(), ensure_ascii=False) if response.is_json else ""

    bad_check = uscc[:17] + ("0" if uscc[17] != "0" else "1")
    status, text = declare(bad_check, "亲属关系")
    assert status == 200 and "统一社会信用代码有误" in text
    assert declare(uscc, "x")[1].count("至少 2 字") == 1
    status, text = declare(uscc, "配偶为该企业股东")
    assert status == 200 and "已登记回避" in text
    assert one(db_url, "SELECT count(*) FROM officer_conflicts WHERE officer_id = %s AND uscc = %s "
                       "AND reason = '配偶为该企业股东'", (officer, uscc)) == 1
    assert declare(uscc, "配偶为该企业股东", user="t_reviewer_gz")[0] == 403
    no_officer = DRAW_WRITE_CALLBACKS["zt-draw-conflict-message.children"]
    answer = client.post("/_dash-update-component", json=no_officer, headers=bearer(tokens, "t_admin_gd"))
    assert "请选择执法人员" in json.dumps(answer.get_json(), ensure_ascii=False)
    with closing(connect(db_url)) as conn, conn, conn.cursor() as cur:  # leave later draws as they were
        cur.execute("DELETE FROM officer_conflicts WHERE officer_id = %s AND uscc = %s", (officer, uscc))
