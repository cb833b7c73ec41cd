-- 0001_init: instance metadata as key/value text (the instance id, schema
-- facts the server checks at start).
CREATE TABLE sitebase_meta (
    key   text PRIMARY KEY,
    value text NOT NULL
);
