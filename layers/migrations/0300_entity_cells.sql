-- A pyramid of entity counts per zoom and map cell (64 x 64 cells per tile), so that low-zoom
-- tiles of millions of entities are read, not computed. Filters and jurisdiction are dimensions,
-- so an aggregated tile never counts what the caller may not see or did not ask for.
CREATE TABLE entity_cells (
    z               smallint NOT NULL,
    cx              integer  NOT NULL,
    cy              integer  NOT NULL,
    district_adcode char(6)  NOT NULL,
    category        text     NOT NULL,
    risk_class      char(1)  NOT NULL,
    n               integer  NOT NULL,
    sx              double precision NOT NULL,  -- sums of EPSG:3857 x / y, for the cell's centroid
    sy              double precision NOT NULL
);
CREATE INDEX entity_cells_tile_idx ON entity_cells (z, cx, cy);
