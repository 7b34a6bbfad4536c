-- The embedded registry's governance file (governance.db): API keys and the access log.
-- Kept apart from registry.db so that logging a read never waits for a submission's write
-- lock. The same tables as migrations/postgres/0002_governance.sql.

-- API keys; the secret only as its SHA-256 hash.
CREATE TABLE api_key (
    key_id        TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    role          TEXT NOT NULL,
    subject_key   INTEGER,
    secret_sha256 BLOB NOT NULL,
    created_at    TEXT NOT NULL,
    revoked_at    TEXT
);

-- The access log: entry `seq` is leaf `seq` of the Merkle tree; `entry` is the exact bytes
-- hashed. Append-only: nothing updates or deletes a row (`audit verify` checks).
CREATE TABLE access_log (
    seq         INTEGER PRIMARY KEY,
    subject_key INTEGER,
    entry       TEXT NOT NULL
);
CREATE INDEX access_log_subject ON access_log (subject_key, seq);

-- Hashes of the tree's complete subtrees (level 0: the leaves), which never change once
-- complete: any root or proof is computed from O(log n) of them.
CREATE TABLE log_node (
    level INTEGER NOT NULL,
    idx   INTEGER NOT NULL,
    hash  BLOB NOT NULL,
    PRIMARY KEY (level, idx)
) WITHOUT ROWID;

-- Signed tree heads, one per size the log has had.
CREATE TABLE tree_head (
    size      INTEGER PRIMARY KEY,
    root      BLOB NOT NULL,
    signed_at TEXT NOT NULL,
    signature BLOB NOT NULL
);
