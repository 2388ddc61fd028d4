-- Pool tags leaking on more than N hosts: the same driver bug across a fleet.
--
-- Over a dataset written by `poolscope export ARCHIVE... -o DIR` (SCHEMA.md, table `suspects`): one row per
-- (tag, pool) that the analysis flagged as a suspect on more than N hosts (in any boot), most hosts first.
--
-- Parameters are DuckDB variables; a variable that is not set takes the default in `params` below:
--   SET VARIABLE dataset = 'fleet-dataset';   -- the DIR given to `poolscope export -o`
--   SET VARIABLE more_than_hosts = 1;         -- N
-- e.g. duckdb -c "SET VARIABLE dataset = 'fleet-dataset'; SET VARIABLE more_than_hosts = 0" -f tags_on_many_hosts.sql
WITH params AS (
    SELECT coalesce(getvariable('more_than_hosts'), 1)::BIGINT AS more_than_hosts
),
suspects AS (
    SELECT *
    FROM read_parquet(
        coalesce(getvariable('dataset'), 'fleet-dataset') || '/table=suspects/**/*.parquet',
        hive_partitioning = true
    )
),
per_host AS (
    -- A host counts once per tag, at its fastest boot.
    SELECT tag, pool, host, max(bytes_per_hour) AS bytes_per_hour
    FROM suspects
    GROUP BY tag, pool, host
)
SELECT
    h.tag,
    h.pool,
    count(*) AS hosts,
    list(h.host ORDER BY h.host) AS host_names,
    round(median(h.bytes_per_hour) / 1e6, 3) AS median_mb_per_hour,
    round(max(h.bytes_per_hour) / 1e6, 3) AS max_mb_per_hour
FROM per_host AS h, params AS p
GROUP BY h.tag, h.pool, p.more_than_hosts
HAVING count(*) > p.more_than_hosts
ORDER BY hosts DESC, max_mb_per_hour DESC, h.tag;
