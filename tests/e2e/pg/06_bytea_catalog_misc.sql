-- bytea casts (read side: value::bytea; insert side: a '\x..'::bytea literal read
-- back only through value::bytea, where both servers agree: PostgreSQL stores the
-- text '\x0102', corewire may store the two bytes), constant SELECTs, psql \dt,
-- empty queries and comments, unknown tables and columns, syntax errors; the
-- session goes on after each error.
\set VERBOSITY verbose
INSERT INTO kv VALUES ('a', 'hello'), ('b', ''), ('c', 'héllo ✓');
SELECT value::bytea FROM kv WHERE key = 'a';
SELECT key, value::bytea FROM kv ORDER BY key;
SELECT value::bytea AS raw FROM kv WHERE key IN ('a', 'c') ORDER BY key;
INSERT INTO kv VALUES ('bin', '\x0102ff'::bytea);
SELECT value::bytea FROM kv WHERE key = 'bin';
INSERT INTO kv VALUES ('bin2', '\x68656c6c6f'::bytea);
SELECT value::bytea FROM kv WHERE key = 'bin2';
-- Constant SELECTs and settings functions.
SELECT 1;
SELECT 1 AS x;
SELECT current_setting('DateStyle');
select 1;
  SELECT   value   FROM   kv   WHERE   key   =   'a'  ;
/* a block comment */ SELECT value FROM kv WHERE key = 'a';
SELECT value FROM kv WHERE key = 'a'; -- trailing comment
SELECT value FROM "kv" WHERE "key" = 'a';
;
-- psql's catalog queries.
\dt
\dt kv
-- Errors, and the session goes on.
SELECT * FROM nope;
SELECT nope FROM kv;
INSERT INTO nope VALUES ('a', 'b');
SELEC 1;
SELECT FROM WHERE;
SELECT value FROM kv WHERE key = 'a';
