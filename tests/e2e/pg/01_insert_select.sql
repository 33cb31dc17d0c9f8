-- Inserts (single and multi-row), duplicate keys, NOT NULL, and the SELECT shapes
-- corewire serves: key/value/*/count(*), WHERE key = / IN / LIKE 'prefix%',
-- ORDER BY key [ASC|DESC], LIMIT/OFFSET. Every multi-row read has ORDER BY key:
-- without it the row order is each server's own.
\set VERBOSITY verbose
SELECT count(*) FROM kv;
SELECT * FROM kv ORDER BY key;
INSERT INTO kv VALUES ('a', '1');
INSERT INTO kv (key, value) VALUES ('b', '2');
INSERT INTO kv (value, key) VALUES ('3', 'c');
INSERT INTO kv VALUES ('d', '4'), ('e', '5'), ('f', '6');
INSERT INTO kv VALUES ('user:1', 'alice'), ('user:2', 'bob'), ('user:10', 'carol'), ('usr', 'x');
-- A duplicate key: 23505, and nothing of a failing multi-row INSERT is kept.
INSERT INTO kv VALUES ('a', 'again');
INSERT INTO kv VALUES ('g', '7'), ('a', 'again'), ('h', '8');
INSERT INTO kv VALUES ('i', '9'), ('i', '10');
SELECT count(*) FROM kv WHERE key IN ('g', 'h', 'i');
-- NOT NULL on value: 23502.
INSERT INTO kv VALUES ('n', NULL);
SELECT value FROM kv WHERE key = 'a';
SELECT key FROM kv WHERE key = 'a';
SELECT * FROM kv WHERE key = 'a';
SELECT value FROM kv WHERE key = 'missing';
SELECT * FROM kv WHERE 'b' = key;
SELECT count(*) FROM kv;
SELECT count(*) FROM kv WHERE key = 'a';
SELECT count(*) FROM kv WHERE key = 'missing';
SELECT * FROM kv ORDER BY key;
SELECT key FROM kv ORDER BY key DESC;
SELECT * FROM kv ORDER BY key ASC LIMIT 3;
SELECT * FROM kv ORDER BY key LIMIT 2 OFFSET 2;
SELECT * FROM kv ORDER BY key OFFSET 8;
SELECT * FROM kv ORDER BY key LIMIT 0;
SELECT * FROM kv ORDER BY key LIMIT 100 OFFSET 100;
SELECT * FROM kv WHERE key IN ('a', 'c', 'missing', 'e') ORDER BY key;
SELECT value FROM kv WHERE key IN ('f') ORDER BY key;
SELECT count(*) FROM kv WHERE key IN ('a', 'b', 'nope');
SELECT * FROM kv WHERE key LIKE 'user:%' ORDER BY key;
SELECT key FROM kv WHERE key LIKE 'us%' ORDER BY key DESC LIMIT 2;
SELECT count(*) FROM kv WHERE key LIKE 'user:1%';
SELECT count(*) FROM kv WHERE key LIKE 'zzz%';
SELECT * FROM kv WHERE key LIKE 'user:%' ORDER BY key LIMIT 1 OFFSET 1;
-- Column aliases, qualified names, the table spelled public.kv.
SELECT key AS k, value AS v FROM kv WHERE key = 'a';
SELECT kv.value FROM kv WHERE kv.key = 'b';
SELECT t.key, t.value FROM kv AS t WHERE t.key = 'c';
SELECT value FROM public.kv WHERE key = 'd';
SELECT count(*) AS n FROM kv;
-- Values: empty, quotes, spaces, unicode, E'' escapes, dollar quoting, long.
INSERT INTO kv VALUES ('empty', '');
INSERT INTO kv VALUES ('quote', 'it''s "quoted"');
INSERT INTO kv VALUES ('space key', 'a value with  spaces ');
INSERT INTO kv VALUES ('unicode', 'héllo wörld ✓ 日本語 🎉');
INSERT INTO kv VALUES ('escaped', E'tab\there\nnewline');
INSERT INTO kv VALUES ('dollar', $$it's $dollar$ quoted$$);
INSERT INTO kv VALUES ('long', '0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789');
SELECT * FROM kv WHERE key IN ('empty', 'quote', 'space key', 'unicode', 'escaped', 'dollar', 'long') ORDER BY key;
SELECT value FROM kv WHERE key = 'space key';
SELECT key, value FROM kv WHERE key = 'unicode';
-- Numbers and casts as keys and values.
INSERT INTO kv VALUES ('42', '1');
SELECT value FROM kv WHERE key = '42';
SELECT value FROM kv WHERE key = 42::text;
SELECT value FROM kv WHERE key = '42'::text;
INSERT INTO kv VALUES (43::text, 7::text);
SELECT * FROM kv WHERE key = '43';
SELECT count(*) FROM kv;
