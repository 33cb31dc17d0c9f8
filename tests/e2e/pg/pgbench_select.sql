\set k random(1, 1000)
SELECT value FROM kv WHERE key = :k::text;
