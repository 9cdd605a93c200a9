-- Trigram indexes so that searching entities by part of a name or address stays fast at millions.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX entities_name_trgm ON entities USING gin (name gin_trgm_ops);
CREATE INDEX entities_address_trgm ON entities USING gin (address gin_trgm_ops);
