"""Where demo entities go: how many per district, and points inside each district's polygon.

Real registers are dense in city cores and sparse in the hills. We allocate entities to districts by
the city's population and a district weight that grows slower than its area (so small urban
districts end up dense), then draw points around a few centres per district plus some background,
keeping only points inside the polygon (vectorised ``shapely.contains_xy``, no loop over points).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import psycopg2.extensions
import shapely
from shapely.geometry.base import BaseGeometry

# Resident population in millions (2020 census, rounded) of Guangdong's 21 prefecture-level cities;
# other provinces fall back to equal city weights.
CITY_POPULATION = {
    "440100": 18.7, "440200": 2.9, "440300": 17.6, "440400": 2.4, "440500": 5.5, "440600": 9.5,
    "440700": 4.8, "440800": 7.0, "440900": 6.2, "441200": 4.1, "441300": 6.0, "441400": 3.9,
    "441500": 2.7, "441600": 2.8, "441700": 2.6, "441800": 4.0, "441900": 10.5, "442000": 4.4,
    "445100": 1.6, "445200": 5.6, "445300": 2.4,
}
DISTRICTS_SQL = """
SELECT d.adcode, d.name, COALESCE(c.name, ''), p.name, d.area_km2, ST_AsBinary(d.geom),
       COALESCE(d.parent_adcode, d.adcode)
FROM admin_areas d
LEFT JOIN admin_areas c ON c.level = 'city' AND c.adcode = d.parent_adcode
JOIN admin_areas p ON p.level = 'province' AND p.adcode = d.province_adcode
WHERE d.level = 'district'
ORDER BY d.adcode
"""


@dataclass
class District:
    """A district polygon and what the generator needs to know about it."""

    adcode: str
    name: str
    address_prefix: str
    area_km2: float
    geom: BaseGeometry
    city_adcode: str


def load_districts(conn: psycopg2.extensions.connection) -> list[District]:
    """All loaded districts with prepared geometries, in adcode order (for reproducibility)."""
    with conn.cursor() as cur:
        cur.execute(DISTRICTS_SQL)
        rows = cur.fetchall()
    districts = []
    for adcode, name, city, province, area, wkb, city_adcode in rows:
        geom = shapely.from_wkb(bytes(wkb))
        shapely.prepare(geom)
        prefix = province + (city if city != name else "") + name
        districts.append(District(adcode.strip(), name, prefix, float(area), geom,
                                  city_adcode.strip()))
    return districts


def allocate(rng: np.random.Generator, districts: list[District], total: int) -> np.ndarray:
    """Entities per district: city population × area^0.3 share within the city (multinomial)."""
    cities = np.array([d.city_adcode for d in districts])
    area_w = np.array([max(d.area_km2, 1.0) ** 0.3 for d in districts])
    weights = np.zeros(len(districts))
    for city in np.unique(cities):
        mask = cities == city
        weights[mask] = CITY_POPULATION.get(city, 3.0) * area_w[mask] / area_w[mask].sum()
    return rng.multinomial(total, weights / weights.sum())


def _inside(geom: BaseGeometry, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    keep = shapely.contains_xy(geom, x, y)
    return x[keep], y[keep]


def _uniform(rng: np.random.Generator, geom: BaseGeometry, n: int) -> tuple[np.ndarray, np.ndarray]:
    minx, miny, maxx, maxy = geom.bounds
    xs, ys = [np.empty(0)], [np.empty(0)]
    while sum(len(x) for x in xs) < n:
        m = max(4 * n, 64)
        x, y = _inside(geom, rng.uniform(minx, maxx, m), rng.uniform(miny, maxy, m))
        xs.append(x)
        ys.append(y)
    return np.concatenate(xs)[:n], np.concatenate(ys)[:n]


def sample_points(rng: np.random.Generator, district: District,
                  n: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` points inside the district: 80 % around a few centres, 20 % spread evenly."""
    if n == 0:
        return np.empty(0), np.empty(0)
    geom = district.geom
    n_centres = int(np.clip(np.sqrt(district.area_km2) / 6, 2, 8))
    cx, cy = _uniform(rng, geom, n_centres)
    sigma_km = np.sqrt(district.area_km2) / 10
    sigma_y = sigma_km / 111.0
    sigma_x = sigma_y / np.cos(np.radians(cy.mean()))
    spread = rng.uniform(0.3, 1.0, n_centres)  # some centres tight (a market street), some loose
    n_clustered = int(n * 0.8)
    xs, ys = [np.empty(0)], [np.empty(0)]
    while sum(len(x) for x in xs) < n_clustered:
        m = max(2 * n_clustered, 64)
        pick = rng.integers(0, n_centres, m)
        x = cx[pick] + rng.normal(0, sigma_x, m) * spread[pick]
        y = cy[pick] + rng.normal(0, sigma_y, m) * spread[pick]
        x, y = _inside(geom, x, y)
        xs.append(x)
        ys.append(y)
    ux, uy = _uniform(rng, geom, n - n_clustered)
    x = np.concatenate([np.concatenate(xs)[:n_clustered], ux])
    y = np.concatenate([np.concatenate(ys)[:n_clustered], uy])
    return x, y
