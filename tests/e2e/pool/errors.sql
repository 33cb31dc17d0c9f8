-- Section pool (tests/e2e/pool/pool.sh): run with psql -f directly on the upstream
-- and through the pool, as pool_user in database app; the two outputs must be
-- identical (host and port normalized). Table pool_err (id int PRIMARY KEY, v text
-- CHECK (length(v) < 5)) holds (1, 'one') and (3, 'thr'); nothing here changes it,
-- so the script can run any number of times. Nothing session-level either (no SET,
-- no temporary table, no PREPARE): it runs in transaction pooling as it is.
\set VERBOSITY verbose
SELECT 1 AS one;
SELECT 1/0;
SELEC 1;
SELECT *
  FROM pool_no_such_table;
SELECT 'abc'::int;
SELECT id, v FROM pool_err WHERE id = 'x';
INSERT INTO pool_err VALUES (1, 'dup');
INSERT INTO pool_err VALUES (2, 'too long');
INSERT INTO pool_err VALUES (NULL, 'n');
UPDATE pool_err SET id = 3 WHERE id = 1;
SELECT no_such_column FROM pool_err;
SELECT pool_no_such_function(1);
DO $$ BEGIN RAISE NOTICE 'notice % from plpgsql', 42; END $$;
DO $$ BEGIN RAISE WARNING 'a warning' USING DETAIL = 'warning detail'; END $$;
DO $$ BEGIN RAISE EXCEPTION 'custom failure %', 7 USING DETAIL = 'some detail', HINT = 'some hint', ERRCODE = 'check_violation'; END $$;
-- Several statements in one Query message; the second fails, the third never runs.
SELECT 10 AS ten \; SELECT 1/0 \; SELECT 11 AS eleven;
-- An error inside a transaction block: the rest of the block fails (25P02) until ROLLBACK.
BEGIN;
SELECT 2 AS two;
SELECT 1/0;
SELECT 3 AS three;
ROLLBACK;
-- A savepoint recovers from an error; the transaction commits.
BEGIN;
SAVEPOINT s1;
SELECT 'x'::int;
ROLLBACK TO SAVEPOINT s1;
SELECT count(*) AS rows_in_pool_err FROM pool_err;
COMMIT;
-- COMMIT of a failed transaction answers ROLLBACK.
BEGIN;
INSERT INTO pool_err VALUES (1, 'dup');
COMMIT;
-- A COPY whose second row is bad: nothing is loaded.
\copy pool_err (id, v) FROM stdin
5	ok
x	bad
\.
COPY pool_err (id, v) FROM STDIN;
6	ok
7	much too long
\.
COPY (SELECT id, v FROM pool_err ORDER BY id) TO STDOUT;
SELECT id, v FROM pool_err ORDER BY id;
SELECT 'after the errors' AS still, current_user, current_database();
