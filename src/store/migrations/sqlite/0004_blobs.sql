-- 0004_blobs: content-addressed blobs (uploaded assets, snapshots,
-- deployment files), stored once per distinct content whoever uploads it.
-- sha256 is the lower-case hex SHA-256 of the bytes; refs counts the
-- references callers hold (src/blob/blob.h), never below 0; blob_gc removes
-- rows with refs = 0 untouched since updated_at plus a grace period. Times
-- are Unix microseconds.
CREATE TABLE blobs (
    sha256     TEXT NOT NULL PRIMARY KEY CHECK (length(sha256) = 64),
    size       INTEGER NOT NULL CHECK (size >= 0),
    refs       INTEGER NOT NULL DEFAULT 0 CHECK (refs >= 0),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) WITHOUT ROWID;
-- What blob_gc scans: unreferenced blobs, oldest first.
CREATE INDEX blobs_unreferenced ON blobs (updated_at) WHERE refs = 0;

-- The bytes, for the in-database byte driver ("store"); empty with the
-- default "fs" driver. A rowid table: SQLite keeps large values in
-- overflow pages of a rowid table better than in a WITHOUT ROWID b-tree.
-- The bytes go with their row.
CREATE TABLE blob_data (
    sha256 TEXT NOT NULL PRIMARY KEY REFERENCES blobs (sha256) ON DELETE CASCADE,
    data   BLOB NOT NULL
);
