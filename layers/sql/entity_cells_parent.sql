-- One coarser level of the entity_cells pyramid, summed from the level below (each parent cell
-- covers 2 x 2 child cells), so only the finest level ever reads the entities table.
INSERT INTO entity_cells (z, cx, cy, district_adcode, category, risk_class, n, sx, sy)
SELECT %(z)s, cx / 2, cy / 2, district_adcode, category, risk_class, sum(n), sum(sx), sum(sy)
FROM entity_cells
WHERE z = %(z)s + 1
GROUP BY 2, 3, 4, 5, 6
