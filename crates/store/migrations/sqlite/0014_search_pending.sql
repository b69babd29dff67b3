-- Records whose search document is still to be written. A complaint registration adds its row
-- here in its own transaction instead of writing the document there; the indexer
-- (`server::complaints::index`) writes the documents of hundreds of registrations in one
-- transaction and deletes their rows in it. On SQLite the full-text index cost a quarter of
-- the one writer's time per registration when each group of ~15 wrote its own segment.
-- Rows survive a crash with the record they name, so nothing is left unindexed.
CREATE TABLE search_pending (
    id INTEGER PRIMARY KEY,
    org_id BIGINT NOT NULL,
    kind TEXT NOT NULL,
    ref_id BIGINT NOT NULL
);
