-- The finest level of the entity_cells pyramid, counted from the entities table itself.
INSERT INTO entity_cells (z, cx, cy, district_adcode, category, risk_class, n, sx, sy)
SELECT %(z)s, floor((ST_X(p) + 20037508.342789244) / %(cell)s)::integer,
       floor((20037508.342789244 - ST_Y(p)) / %(cell)s)::integer,
       district_adcode, category, risk_class, count(*), sum(ST_X(p)), sum(ST_Y(p))
FROM (SELECT ST_Transform(geom, 3857) AS p, district_adcode, category, risk_class
      FROM entities) s
GROUP BY 2, 3, 4, 5, 6
