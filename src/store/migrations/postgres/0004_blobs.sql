-- 0004_blobs: content-addressed blobs (uploaded assets, snapshots,
-- deployment files), stored once per distinct content whoever uploads it.
-- sha256 is the lower-case hex SHA-256 of the bytes; refs counts the
-- references callers hold (src/blob/blob.h), never below 0; blob_gc removes
-- rows with refs = 0 untouched since updated_at plus a grace period. Times
-- are Unix microseconds.
CREATE TABLE blobs (
    sha256     text PRIMARY KEY CHECK (length(sha256) = 64),
    size       bigint NOT NULL CHECK (size >= 0),
    refs       bigint NOT NULL DEFAULT 0 CHECK (refs >= 0),
    created_at bigint NOT NULL,
    updated_at bigint NOT NULL
);
-- What blob_gc scans: unreferenced blobs, oldest first.
CREATE INDEX blobs_unreferenced ON blobs (updated_at) WHERE refs = 0;

-- The bytes, for the in-database byte driver ("store"); empty with the
-- default "fs" driver. Blob contents are already compressed more often than
-- not (images, fonts, video), so TOAST need not try: EXTERNAL stores them
-- out of line uncompressed, which also makes substr() ranges cheap. The
-- bytes go with their row.
CREATE TABLE blob_data (
    sha256 text PRIMARY KEY REFERENCES blobs (sha256) ON DELETE CASCADE,
    data   bytea NOT NULL
);
ALTER TABLE blob_data ALTER COLUMN data SET STORAGE EXTERNAL;
