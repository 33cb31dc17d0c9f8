-- COPY kv FROM STDIN (text and csv, data inline in this script up to \.) and
-- COPY (SELECT ... ORDER BY key) TO STDOUT (text and csv). Plain `COPY kv TO STDOUT`
-- is not used: its row order is each server's own.
\set VERBOSITY verbose
COPY kv FROM STDIN;
a	1
b	two words
c	tab\there
d	new\nline
e	back\\slash
\.
COPY (SELECT * FROM kv ORDER BY key) TO STDOUT;
COPY (SELECT * FROM kv ORDER BY key) TO STDOUT WITH (FORMAT csv);
COPY kv (key, value) FROM STDIN WITH (FORMAT csv);
f,plain
g,"with, comma"
h,"with ""quotes"""
i,"multi
line"
j,héllo ✓
\.
COPY (SELECT * FROM kv ORDER BY key) TO STDOUT WITH (FORMAT csv);
COPY (SELECT key, value FROM kv WHERE key IN ('g', 'h') ORDER BY key) TO STDOUT WITH (FORMAT csv, HEADER);
COPY kv FROM STDIN WITH (FORMAT csv, HEADER true);
key,value
k,from header csv
\.
COPY kv (value, key) FROM STDIN WITH (FORMAT csv);
reversed,l
\.
COPY kv FROM STDIN WITH (DELIMITER '|');
m|pipe
\.
SELECT * FROM kv WHERE key IN ('k', 'l', 'm') ORDER BY key;
COPY (SELECT key FROM kv WHERE key LIKE 'a%' ORDER BY key) TO STDOUT;
COPY (SELECT value FROM kv WHERE key = 'b') TO STDOUT WITH (FORMAT csv);
COPY (SELECT * FROM kv ORDER BY key LIMIT 2 OFFSET 1) TO STDOUT WITH (FORMAT csv);
-- Errors: a duplicate key (nothing of the COPY is kept), a NULL value, a short line.
COPY kv FROM STDIN;
n	1
a	dup
\.
SELECT count(*) FROM kv WHERE key = 'n';
COPY kv FROM STDIN;
o	\N
\.
COPY kv FROM STDIN;
p
\.
SELECT count(*) FROM kv;
-- COPY inside a transaction block.
BEGIN;
COPY kv FROM STDIN WITH (FORMAT csv);
q,1
r,2
\.
ROLLBACK;
SELECT count(*) FROM kv WHERE key IN ('q', 'r');
BEGIN;
COPY kv FROM STDIN WITH (FORMAT csv);
q,1
r,2
\.
COMMIT;
SELECT * FROM kv WHERE key IN ('q', 'r') ORDER BY key;
