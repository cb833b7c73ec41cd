-- 0001_init: instance metadata as key/value text (the instance id, schema
-- facts the server checks at start). WITHOUT ROWID: looked up by key only,
-- and it makes SQLite enforce NOT NULL on the primary key.
CREATE TABLE sitebase_meta (
    key   TEXT NOT NULL PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
