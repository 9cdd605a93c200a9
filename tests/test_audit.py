"""The audit log: append-only, six months kept, personal-data reads and every change recorded."""

from __future__ import annotations

import re
from contextlib import closing

import psycopg2
import pytest

from accounts.masking import mask_person_name, mask_record
from geo.db import Database, connect
from tests.conftest import bearer
from tests.helpers import entity_in, one


def test_audit_rows_cannot_be_changed_even_by_the_owner(db_url):
    for statement in ("UPDATE audit_log SET username = 'x'", "DELETE FROM audit_log",
                      "TRUNCATE audit_log"):
        with closing(connect(db_url)) as conn, conn.cursor() as cur:
            cur.execute("INSERT INTO audit_log (username, action) VALUES ('t', 'probe')")
            with pytest.raises(psycopg2.errors.RaiseException, match="append-only"):
                cur.execute(statement)


def test_retention_is_at_least_six_months(db_url):
    with closing(connect(db_url)) as conn, conn.cursor() as cur:
        with pytest.raises(psycopg2.errors.RaiseException, match="at least 6 months"):
            cur.execute("SELECT zt_purge_audit(3)")
    with closing(connect(db_url)) as conn, conn, conn.cursor() as cur:
        cur.execute("SELECT zt_purge_audit(6)")
        assert cur.fetchone()[0] == 0  # nothing here is older than six months


def test_app_role_may_only_append(db_url):
    database = Database(db_url)
    try:
        with pytest.raises(psycopg2.errors.InsufficientPrivilege):
            with database.connection({"region": "44", "role": "admin"}) as conn, conn.cursor() as cur:
                cur.execute("DELETE FROM audit_log")
    finally:
        database.close()


def test_reading_personal_data_is_audited_per_read(app, tokens, db_url):
    client = app.server.test_client()
    entity = entity_in(db_url, "440106")
    before = one(db_url, "SELECT count(*) FROM audit_log WHERE action = 'read_personal' "
                         "AND object_id = %s AND username = 'insp_tianhe'", (str(entity),))
    for _ in range(2):
        body = client.get(f"/api/entities/{entity}", headers=bearer(tokens, "insp_tianhe")).get_json()
    after = one(db_url, "SELECT count(*) FROM audit_log WHERE action = 'read_personal' "
                        "AND object_id = %s AND username = 'insp_tianhe'", (str(entity),))
    assert after == before + 2
    fields = one(db_url, "SELECT detail->'fields' FROM audit_log WHERE action = 'read_personal' "
                         "AND object_id = %s ORDER BY id DESC LIMIT 1", (str(entity),))
    assert sorted(fields) == ["contact_phone", "legal_rep_name"]
    # what the inspector read: name and phone in clear, the ID number masked
    assert body["contact_phone"] == one(db_url, "SELECT contact_phone FROM entities WHERE id = %s",
                                        (entity,))
    assert re.fullmatch(r"\d{4}\*{10}[\dX]{4}", body["legal_rep_id"])


def test_roles_without_need_see_masks_and_leave_no_read_row(app, tokens, db_url):
    client = app.server.test_client()
    entity = entity_in(db_url, "440106")
    before = one(db_url, "SELECT count(*) FROM audit_log WHERE action = 'read_personal'")
    body = client.get(f"/api/entities/{entity}", headers=bearer(tokens, "t_operator_gz")).get_json()
    assert re.fullmatch(r"1\d{2}\*{4}\d{4}", body["contact_phone"])
    assert re.fullmatch(r"\d{4}\*{10}[\dX]{4}", body["legal_rep_id"])
    assert body["legal_rep_name"][1:] == "*" * (len(body["legal_rep_name"]) - 1)
    assert one(db_url, "SELECT count(*) FROM audit_log WHERE action = 'read_personal'") == before


def test_masking_rules_in_one_place():
    record = {"legal_rep_name": "陈小明", "legal_rep_id": "11010519491231002X",
              "contact_phone": "13812345678", "name": "某某餐饮店"}
    masked, revealed = mask_record(record, "manager")
    assert masked == {"legal_rep_name": "陈**", "legal_rep_id": "1101**********002X",
                      "contact_phone": "138****5678", "name": "某某餐饮店"}
    assert revealed == []
    clear, revealed = mask_record(record, "legal_reviewer")
    assert clear == record and sorted(revealed) == ["contact_phone", "legal_rep_id", "legal_rep_name"]
    assert mask_person_name("") == ""


def test_every_change_is_recorded_with_who_and_what(db_url):
    database = Database(db_url)
    entity = entity_in(db_url, "440106")
    try:
        with database.connection({"region": "440106", "user": "insp_tianhe", "role": "inspector",
                                  "ip": "10.1.2.3"}) as conn, conn.cursor() as cur:
            cur.execute("UPDATE entities SET address = address || '（复核）' WHERE id = %s", (entity,))
    finally:
        database.close()
    row = one(db_url, """SELECT json_build_object('u', username, 'r', role, 'a', action, 'ip', host(ip),
                                'old', detail->'old'->>'address', 'new', detail->'new'->>'address')
                         FROM audit_log WHERE object_type = 'entities' AND object_id = %s
                         ORDER BY id DESC LIMIT 1""", (str(entity),))
    assert row["u"] == "insp_tianhe" and row["r"] == "inspector" and row["a"] == "update"
    assert row["ip"] == "10.1.2.3"
    assert row["new"] == row["old"] + "（复核）"


def test_logins_are_audited(app, db_url):
    from tests.conftest import login

    client = app.server.test_client()
    before = one(db_url, "SELECT count(*) FROM audit_log WHERE action = 'login' AND username = 't_operator_gz'")
    login(client, "t_operator_gz")
    after = one(db_url, "SELECT count(*) FROM audit_log WHERE action = 'login' AND username = 't_operator_gz'")
    assert after == before + 1


def test_admin_audit_search_shows_rows(app, tokens):
    from tests.helpers import audit_search_request

    client = app.server.test_client()
    response = client.post("/_dash-update-component", json=audit_search_request(),
                           headers=bearer(tokens, "t_admin_gd"))
    assert response.status_code == 200
    assert "login" in response.get_data(as_text=True) or "bulk_load" in response.get_data(as_text=True)
