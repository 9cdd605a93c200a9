-- Small facts about this database (what demo data it holds, when boundaries were loaded…).
CREATE TABLE zhengtu_meta (
    key        text PRIMARY KEY,
    value      jsonb NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
