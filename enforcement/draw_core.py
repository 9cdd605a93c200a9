"""The 双随机 draw as a pure function: (plans, register snapshot, seed) → the ordered result list.

Nothing here touches the database, so ``zhengtu draw verify`` (and anyone with the published seed and
the stored snapshot) recomputes exactly what the draw did. The rules, in order:

1. **Keys.** Every entity in the snapshot gets ``k = HMAC-SHA256(seed, "entity:" + USCC)``; entities
   are ordered by the first 64 bits of ``k`` read big-endian, ties (never seen in practice) by id.
2. **Entities per plan.** For each plan and risk class A–D, the eligible entities (district under the
   plan's region, category in the plan's categories or any if none) number ``n``; the plan takes
   ``q = n × ratio`` rounded half up in decimal arithmetic (30 × 0.05 = 1.5 → 2; 29 × 0.05 = 1.45 → 1)
   of them, the first ``q`` in key order.
3. **Visits.** A joint draw (部门联合抽查) runs several departments' plans with one seed: since every
   plan ranks by the same keys, their samples overlap as much as their ratios allow, and each chosen
   entity is one visit, with one task per plan (department) that chose it. Visits are ordered by key.
4. **Officers.** For each visit and plan, two officers of the plan's department (any department if it
   names none): first from the entity's district, else from the plan's region. Excluded: officers who
   declared a conflict of interest with the entity, officers of the entity's previous random
   inspection ("no inspector twice in a row on the same entity"), and officers already on this visit.
   Least-loaded first (load = tasks given in this draw); ties by ``officer key XOR entity key``, where
   the officer key is the first 64 bits of ``HMAC-SHA256(seed, "officer:" + id)``, then by id. With no
   exclusions this keeps every pool's loads within one of each other, so no officer carries more than
   ``ceil(2n / officers)`` of a pool's ``n`` visits.
5. **Rows.** Numbered from 1 in visit order, then plan id: (entity id, plan id, department, the two
   officer ids ascending).
"""

from __future__ import annotations

import hashlib
import hmac
import io
import zlib
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

import numpy as np

RISK_CLASSES = ("A", "B", "C", "D")
REGISTER_VERSION = b"zhengtu-draw-register/1\n"
SNAPSHOT_MAGIC = b"ZTREG1\n"
RESULT_VERSION = b"zhengtu-draw-result/1\n"
# name -> kind of every array of a register snapshot, in hashing order
REGISTER_FIELDS = {
    "entity_id": "int", "uscc": "S18", "district": "S6", "category": "S16", "risk": "S1",
    "officer_id": "int", "officer_department": "text", "officer_region": "S6",
    "conflict_officer": "int", "conflict_entity": "int",
    "history_entity": "int", "history_officer": "int",
}


class DrawError(ValueError):
    """The draw cannot be made as planned (e.g. too few officers left for an entity)."""


@dataclass(frozen=True)
class PlanSpec:
    """The parameters of one department's plan that the draw depends on."""

    plan_id: int
    region: str
    department: str | None
    categories: tuple[str, ...]
    ratios: dict[str, Decimal]


@dataclass
class Register:
    """A snapshot of everything the draw reads: entities, officers, conflicts, previous draws.

    Entities are sorted by id, officers by id, pairs by (entity, officer); ``register_hash`` is
    computed over this canonical form, so the same register always hashes the same.
    """

    arrays: dict[str, np.ndarray] = field(default_factory=dict)

    def __getitem__(self, name: str) -> np.ndarray:
        return self.arrays[name]

    @classmethod
    def build(cls, entities: tuple, officers: tuple, conflicts: tuple, history: tuple) -> Register:
        """From column sequences: (ids, usccs, districts, categories, risks), (ids, departments,
        regions), (officer ids, entity ids), (entity ids, officer ids); sorts into canonical order."""
        eid, uscc, district, category, risk = (np.asarray(c) for c in entities)
        order = np.argsort(eid.astype(np.int64), kind="stable")
        oid, dept, oregion = (np.asarray(c) for c in officers)
        oorder = np.argsort(oid.astype(np.int64), kind="stable")
        arrays = {
            "entity_id": eid.astype(np.int64)[order], "uscc": _ascii(uscc, 18)[order],
            "district": _ascii(district, 6)[order], "category": _ascii(category, 16)[order],
            "risk": _ascii(risk, 1)[order],
            "officer_id": oid.astype(np.int64)[oorder], "officer_department": dept.astype(str)[oorder],
            "officer_region": _ascii(oregion, 6)[oorder],
        }
        entity_sorted, officer_sorted = arrays["entity_id"], arrays["officer_id"]
        for name, (left, right) in (("conflict", conflicts), ("history", history)):
            a, b = np.asarray(left, dtype=np.int64), np.asarray(right, dtype=np.int64)
            officers_, entities_ = (a, b) if name == "conflict" else (b, a)
            # only pairs of entities and officers in this snapshot matter (and are kept)
            keep = _members(entities_, entity_sorted) & (_members(officers_, officer_sorted) if name == "conflict"
                                                          else np.ones(len(a), dtype=bool))
            a, b = a[keep], b[keep]
            pairs = np.unique(np.stack([b, a], axis=1) if name == "conflict" else np.stack([a, b], axis=1),
                              axis=0) if len(a) else np.empty((0, 2), dtype=np.int64)
            if name == "conflict":  # sorted by (entity, officer), stored as officer, entity
                arrays["conflict_officer"], arrays["conflict_entity"] = pairs[:, 1], pairs[:, 0]
            else:
                arrays["history_entity"], arrays["history_officer"] = pairs[:, 0], pairs[:, 1]
        return cls({name: arrays[name] for name in REGISTER_FIELDS})

    def digest(self) -> str:
        """``register_hash``: SHA-256 over each array's name, length and canonical bytes."""
        h = hashlib.sha256(REGISTER_VERSION)
        for name, kind in REGISTER_FIELDS.items():
            values = self.arrays[name]
            h.update(f"{name}:{len(values)}\n".encode())
            if kind == "int":
                h.update(values.astype(">i8").tobytes())
            elif kind == "text":
                h.update("\x1f".join(values.tolist()).encode("utf-8"))
            else:
                h.update(values.astype(kind).tobytes())
        return h.hexdigest()

    def to_bytes(self) -> bytes:
        """Storage form: numpy .npz (no pickles), deflated at level 1 (fast; ~11 bytes an entity)."""
        buf = io.BytesIO()
        np.savez(buf, **self.arrays)
        return SNAPSHOT_MAGIC + zlib.compress(buf.getvalue(), 1)

    @classmethod
    def from_bytes(cls, data: bytes) -> Register:
        """Read the storage form back (refuses pickled objects)."""
        if not data.startswith(SNAPSHOT_MAGIC):
            raise DrawError("登记册快照格式无法识别 / unknown snapshot format")
        raw = zlib.decompress(data[len(SNAPSHOT_MAGIC):])
        with np.load(io.BytesIO(raw), allow_pickle=False) as npz:
            return cls({name: npz[name] for name in REGISTER_FIELDS})

    @property
    def entities(self) -> int:
        """How many entities the snapshot holds."""
        return len(self.arrays["entity_id"])


@dataclass(frozen=True)
class DrawRow:
    """One task of the result: a visit to an entity for one plan, by two officers."""

    seq: int
    entity_id: int
    plan_id: int
    department: str | None
    officers: tuple[int, int]

    def describe(self) -> str:
        """Human form used in verification messages."""
        return (f"entity {self.entity_id} / 计划 plan {self.plan_id} / officers "
                f"{','.join(map(str, self.officers))}")


def _members(values: np.ndarray, sorted_pool: np.ndarray) -> np.ndarray:
    """Which ``values`` occur in the sorted array ``sorted_pool`` (binary search, no hashing)."""
    if not len(sorted_pool):
        return np.zeros(len(values), dtype=bool)
    at = np.minimum(np.searchsorted(sorted_pool, values), len(sorted_pool) - 1)
    return sorted_pool[at] == values


def _ascii(values: np.ndarray, width: int) -> np.ndarray:
    """Fixed-width ASCII bytes (codes, USCCs, adcodes are ASCII; anything else is refused)."""
    try:
        return values.astype(f"S{width}")
    except UnicodeEncodeError:
        raise DrawError("登记册中的代码应为 ASCII 字符 / register codes must be ASCII") from None


def parse_ratios(text: str | dict) -> dict[str, Decimal]:
    """``A=0.05,B=0.03,C=0.02,D=0.01`` (or a dict) → ratios per risk class, each 0–1; missing → 0."""
    if isinstance(text, dict):
        items = [(str(k), str(v)) for k, v in text.items()]
    else:
        items = []
        for part in str(text or "").split(","):
            if not part.strip():
                continue
            if "=" not in part:
                raise DrawError(f"比例格式应为 A=0.05,B=0.03：{part!r} / ratio must look like A=0.05")
            key, value = part.split("=", 1)
            items.append((key, value))
    ratios = dict.fromkeys(RISK_CLASSES, Decimal(0))
    for key, value in items:
        key = key.strip().upper()
        if key not in RISK_CLASSES:
            raise DrawError(f"风险等级应为 A、B、C、D：{key!r} / risk class must be A–D")
        try:
            ratio = Decimal(str(value).strip())
        except InvalidOperation:
            raise DrawError(f"{key} 的比例不是数字：{value!r} / ratio is not a number") from None
        if not ratio.is_finite() or not Decimal(0) <= ratio <= Decimal(1):
            raise DrawError(f"{key} 的比例应在 0–1 之间：{value} / ratio must be within 0–1")
        ratios[key] = ratio
    if not any(ratios.values()):
        raise DrawError("至少一个风险等级的抽取比例应大于 0 / at least one ratio must be above 0")
    return ratios


def quota(n: int, ratio: Decimal) -> int:
    """How many of ``n`` entities a ratio takes: n × ratio rounded half up (decimal, exact)."""
    return int((Decimal(n) * ratio).to_integral_value(rounding=ROUND_HALF_UP))


def _key64(seed: bytes, label: bytes) -> int:
    return int.from_bytes(hmac.digest(seed, label, "sha256")[:8], "big")


def entity_keys(seed: bytes, usccs: np.ndarray) -> np.ndarray:
    """First 64 bits of HMAC-SHA256(seed, "entity:" + USCC) for each entity, as uint64.

    Standard HMAC (RFC 2104) computed from precomputed inner and outer SHA-256 states: the same bytes
    as ``hmac.digest``, about three times faster on millions of short messages.
    """
    block = seed.ljust(64, b"\0") if len(seed) <= 64 else hashlib.sha256(seed).digest().ljust(64, b"\0")
    inner = hashlib.sha256(bytes(b ^ 0x36 for b in block) + b"entity:")
    outer = hashlib.sha256(bytes(b ^ 0x5C for b in block))
    inner_copy, outer_copy = inner.copy, outer.copy

    def key(message: bytes) -> bytes:
        h = inner_copy()
        h.update(message)
        o = outer_copy()
        o.update(h.digest())
        return o.digest()[:8]

    packed = b"".join([key(u) for u in usccs.tolist()])
    return np.frombuffer(packed, dtype=">u8").astype(np.uint64)


def _region_mask(districts: np.ndarray, region: str) -> np.ndarray:
    prefix = region.encode("ascii")
    return np.char.startswith(districts, prefix) if len(prefix) < 6 else districts == prefix


def select_entities(plans: list[PlanSpec], register: Register, keys: np.ndarray
                    ) -> tuple[np.ndarray, dict[int, set[int]]]:
    """Rule 2: for each plan the first ``quota`` eligible entities per risk class in key order.

    Returns the rank of every entity (0 = first in key order) and, per plan, the chosen entity rows.
    """
    order = np.lexsort((register["entity_id"], keys))
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    chosen: dict[int, set[int]] = {}
    risk, category = register["risk"], register["category"]
    for plan in plans:
        eligible = _region_mask(register["district"], plan.region)
        if plan.categories:
            eligible &= np.isin(category, np.array([c.encode() for c in plan.categories], dtype="S16"))
        picked: set[int] = set()
        for risk_class in RISK_CLASSES:
            rows = np.flatnonzero(eligible & (risk == risk_class.encode()))
            take = quota(len(rows), plan.ratios.get(risk_class, Decimal(0)))
            if take:
                first = rows[np.argsort(rank[rows], kind="stable")[:take]]
                picked.update(first.tolist())
        chosen[plan.plan_id] = picked
    return rank, chosen


def _pairs(left: np.ndarray, right: np.ndarray) -> dict[int, set[int]]:
    out: dict[int, set[int]] = defaultdict(set)
    for a, b in zip(left.tolist(), right.tolist(), strict=True):
        out[a].add(b)
    return out


def compute_draw(plans: list[PlanSpec], register: Register, seed: bytes) -> list[DrawRow]:
    """The whole draw (rules 1–5 of the module docstring); deterministic in its three inputs."""
    if len(seed) != 32:
        raise DrawError("种子应为 32 字节 / the seed must be 32 bytes")
    plans = sorted(plans, key=lambda p: p.plan_id)
    keys = entity_keys(seed, register["uscc"])
    rank, chosen = select_entities(plans, register, keys)
    visits = sorted(set().union(*chosen.values()), key=lambda row: rank[row])
    conflicts = _pairs(register["conflict_entity"], register["conflict_officer"])
    history = _pairs(register["history_entity"], register["history_officer"])
    officer_ids = register["officer_id"].tolist()
    departments = register["officer_department"].tolist()
    regions = [r.decode() for r in register["officer_region"].tolist()]
    okey = {o: _key64(seed, f"officer:{o}".encode()) for o in officer_ids}
    by_district: dict[tuple[str | None, str], list[int]] = defaultdict(list)
    for o, dept, region in zip(officer_ids, departments, regions, strict=True):
        by_district[(dept, region)].append(o)
        by_district[(None, region)].append(o)
    wide: dict[tuple[str | None, str], list[int]] = {}
    load: dict[int, int] = dict.fromkeys(officer_ids, 0)
    entity_id, districts = register["entity_id"], register["district"]
    rows: list[DrawRow] = []
    for row in visits:
        eid, district = int(entity_id[row]), districts[row].decode()
        ekey = int(keys[row])
        excluded = conflicts.get(eid, set()) | history.get(eid, set())
        for plan in plans:
            if row not in chosen[plan.plan_id]:
                continue
            pool = [o for o in by_district.get((plan.department, district), ()) if o not in excluded]
            if len(pool) < 2:
                if (plan.department, plan.region) not in wide:
                    wide[(plan.department, plan.region)] = [
                        o for o, dept, region in zip(officer_ids, departments, regions, strict=True)
                        if region.startswith(plan.region) and plan.department in (None, dept)]
                pool = [o for o in wide[(plan.department, plan.region)] if o not in excluded]
            if len(pool) < 2:
                raise DrawError(f"监管对象 {eid} 可抽取的{plan.department or ''}执法人员不足两名"
                                f"（计划 {plan.plan_id}）/ fewer than two eligible officers for entity {eid}")
            pool.sort(key=lambda o: (load[o], okey[o] ^ ekey, o))
            pair = (min(pool[0], pool[1]), max(pool[0], pool[1]))
            for o in pair:
                load[o] += 1
            excluded = excluded | set(pair)
            rows.append(DrawRow(len(rows) + 1, eid, plan.plan_id, plan.department, pair))
    return rows


def result_hash(rows: list[DrawRow]) -> str:
    """SHA-256 over the result rows' canonical text, one line per row."""
    h = hashlib.sha256(RESULT_VERSION)
    for r in rows:
        h.update(f"{r.seq},{r.entity_id},{r.plan_id},{r.department or ''},"
                 f"{r.officers[0]},{r.officers[1]}\n".encode())
    return h.hexdigest()


def seed_hash(seed: bytes) -> str:
    """What is published before the draw: SHA-256 of the seed, hex."""
    return hashlib.sha256(seed).hexdigest()


def first_difference(expected: list[DrawRow], recorded: list[DrawRow]) -> str | None:
    """The first row where a recomputed draw and the recorded one differ, in words; None if equal."""
    for want, got in zip(expected, recorded, strict=False):
        if want != got:
            return f"第 {want.seq} 行不同: 应为 {want.describe()}，记录为 {got.describe()} / row {want.seq} differs"
    if len(expected) != len(recorded):
        n = min(len(expected), len(recorded)) + 1
        extra = (f"应为 {expected[n - 1].describe()}，记录缺失" if len(expected) > len(recorded)
                 else f"多出记录 {recorded[n - 1].describe()}")
        return f"第 {n} 行不同: {extra} / row {n} differs (expected {len(expected)} rows, recorded {len(recorded)})"
    return None
