-- Search documents gain long grams for letter-and-digit runs (domain::search::LONG), so a
-- serial fragment is found from a few short doclists instead of several huge trigram ones.
-- The tokens are cut in Rust: after the migrations, store::search::recut re-cuts every
-- document with an id from next_id on, a batch per transaction, and then deletes the row.
CREATE TABLE search_recut (next_id BIGINT NOT NULL);
INSERT INTO search_recut (next_id) VALUES (0);
