-- Imported layers (zhengtu import layer): one table per layer in schema user_layers, a
-- security_invoker view public.user_layer_<name> as its registry source, and this catalogue, from
-- which layers/catalogue.py adds them to the layer registry (tiles, OGC API, map).
CREATE SCHEMA user_layers;
GRANT USAGE ON SCHEMA user_layers TO zhengtu_app;

CREATE TABLE user_layers.catalogue (
    name           text PRIMARY KEY CHECK (name ~ '^[a-z][a-z0-9_]{0,40}$'),
    title_zh       text NOT NULL,
    title_en       text NOT NULL,
    geometry_kind  text NOT NULL CHECK (geometry_kind IN ('point', 'line', 'polygon')),
    -- shared: every member of staff sees every feature (reference layers: grids, zones);
    -- region: a feature is seen only by callers whose region contains its district_adcode
    scope          text NOT NULL DEFAULT 'shared' CHECK (scope IN ('shared', 'region')),
    fields         jsonb NOT NULL DEFAULT '[]',  -- [{"name", "type", "label"}] in column order
    source_file    text,
    source_crs     text,
    feature_count  integer NOT NULL DEFAULT 0,
    rejected_count integer NOT NULL DEFAULT 0,
    bbox           double precision[],
    imported_by    text,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now()
);
GRANT SELECT ON user_layers.catalogue TO zhengtu_app;

-- True for any caller with a region (every member of staff); false for the public and for a
-- connection without context, so a shared layer is still deny-by-default.
CREATE FUNCTION zt_is_staff() RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT zt_region() IS NOT NULL
$$;
