-- Hosts whose Toke (security token objects: the lsass.exe token leak) grows faster than X MB/h.
--
-- Over a dataset written by `poolscope export ARCHIVE... -o DIR` (SCHEMA.md, table `suspects`): one row per
-- host whose tag grew faster than the threshold in any boot, fastest first, with the boot it did so in.
--
-- Parameters are DuckDB variables; a variable that is not set takes the default in `params` below:
--   SET VARIABLE dataset = 'fleet-dataset';   -- the DIR given to `poolscope export -o`
--   SET VARIABLE min_mb_per_hour = 1.0;       -- X, in MB (10^6 bytes) per hour
--   SET VARIABLE tag = 'Toke';                -- any pool tag (4 characters, trailing spaces kept)
-- e.g. duckdb -c "SET VARIABLE dataset = 'fleet-dataset'; SET VARIABLE min_mb_per_hour = 5" -f hosts_faster_than.sql
WITH params AS (
    SELECT
        coalesce(getvariable('min_mb_per_hour'), 1.0)::DOUBLE AS min_mb_per_hour,
        coalesce(getvariable('tag'), 'Toke')::VARCHAR AS tag
),
suspects AS (
    SELECT *
    FROM read_parquet(
        coalesce(getvariable('dataset'), 'fleet-dataset') || '/table=suspects/**/*.parquet',
        hive_partitioning = true
    )
)
SELECT
    s.host,
    round(max(s.bytes_per_hour) / 1e6, 3) AS mb_per_hour,
    arg_max(s.boot, s.bytes_per_hour) AS boot,
    count(DISTINCT s.boot) AS boots_growing
FROM suspects AS s, params AS p
WHERE s.tag = p.tag AND s.bytes_per_hour > p.min_mb_per_hour * 1e6
GROUP BY s.host
ORDER BY mb_per_hour DESC, s.host;
