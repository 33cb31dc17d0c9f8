\set k random(1, 1000)
\set v random(1, 1000000)
UPDATE kv SET value = :v::text WHERE key = :k::text;
