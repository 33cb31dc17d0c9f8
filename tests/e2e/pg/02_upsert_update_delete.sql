-- Upserts, RETURNING, UPDATE / DELETE row counts, TRUNCATE. RETURNING is only used
-- where it returns at most one row, or rows of a multi-row VALUES list (returned in
-- list order): other multi-row RETURNING orders are each server's own.
\set VERBOSITY verbose
INSERT INTO kv VALUES ('a', '1'), ('b', '2'), ('c', '3'), ('d', '4');
INSERT INTO kv VALUES ('a', '10') ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value;
SELECT value FROM kv WHERE key = 'a';
INSERT INTO kv VALUES ('e', '5') ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value;
SELECT value FROM kv WHERE key = 'e';
INSERT INTO kv VALUES ('a', '99') ON CONFLICT (key) DO NOTHING;
INSERT INTO kv VALUES ('a', '99') ON CONFLICT DO NOTHING;
INSERT INTO kv VALUES ('f', '6') ON CONFLICT (key) DO NOTHING;
SELECT * FROM kv ORDER BY key;
INSERT INTO kv VALUES ('a', '11'), ('g', '7'), ('b', '12') ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value;
INSERT INTO kv VALUES ('a', '0'), ('h', '8'), ('b', '0') ON CONFLICT (key) DO NOTHING;
SELECT * FROM kv ORDER BY key;
-- The same key twice in one upsert: PostgreSQL refuses (21000).
INSERT INTO kv VALUES ('x', '1'), ('x', '2') ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value;
SELECT count(*) FROM kv WHERE key = 'x';
-- RETURNING.
INSERT INTO kv VALUES ('r1', 'one') RETURNING *;
INSERT INTO kv VALUES ('r2', 'two') RETURNING key;
INSERT INTO kv VALUES ('r3', 'three') RETURNING value;
INSERT INTO kv VALUES ('r4', 'four'), ('r5', 'five') RETURNING key, value;
INSERT INTO kv VALUES ('r1', 'uno') ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value RETURNING *;
INSERT INTO kv VALUES ('r1', 'ein') ON CONFLICT (key) DO NOTHING RETURNING *;
INSERT INTO kv VALUES ('r6', 'six') RETURNING key AS k, value AS v;
-- UPDATE counts.
UPDATE kv SET value = 'updated' WHERE key = 'a';
UPDATE kv SET value = 'updated' WHERE key = 'missing';
UPDATE kv SET value = 'both' WHERE key IN ('b', 'c', 'missing');
SELECT * FROM kv WHERE key IN ('a', 'b', 'c') ORDER BY key;
UPDATE kv SET value = 'ret' WHERE key = 'd' RETURNING *;
UPDATE kv SET value = 'ret' WHERE key = 'missing' RETURNING *;
UPDATE kv SET value = NULL WHERE key = 'd';
SELECT value FROM kv WHERE key = 'd';
-- DELETE counts.
DELETE FROM kv WHERE key = 'a';
DELETE FROM kv WHERE key = 'a';
DELETE FROM kv WHERE key IN ('b', 'c', 'missing');
DELETE FROM kv WHERE key = 'd' RETURNING *;
DELETE FROM kv WHERE key = 'missing' RETURNING key;
SELECT * FROM kv ORDER BY key;
SELECT count(*) FROM kv;
TRUNCATE kv;
SELECT count(*) FROM kv;
TRUNCATE TABLE kv;
INSERT INTO kv VALUES ('after', 'truncate');
SELECT * FROM kv ORDER BY key;
