#!/usr/bin/env python3
"""Fleet post-mortem on Spark: one `poolscope analyze` per host archive, run on the executors.

Two jobs (issue 11):

analyze   Takes a list (or globs) of host archives, ships the poolscope binary to the executors with
          SparkContext.addFile, runs `poolscope analyze ARCHIVE --format json` for each archive inside
          mapPartitions, and writes the fleet's suspects, projections and attributions as ONE Parquet
          table (a `record` column says which; an archive poolscope could not read gives a `record =
          'error'` row instead of failing the job: archives from hung servers are often damaged).

              spark-submit contrib/spark/fleet_postmortem.py analyze \\
                  --poolscope target/release/poolscope --out fleet-postmortem.parquet \\
                  '/archives/*/'            # globs are expanded on the driver; or list the archives

          Each archive must be readable by the executors under the same path (a shared file system), and
          the binary must run on them (same OS and architecture as where it was built).

sql       Spark SQL over a dataset written by `poolscope export` (SCHEMA.md), answering the same two
          questions as contrib/duckdb/: hosts whose TAG grows faster than X MB/h, and tags leaking on
          more than N hosts.

              spark-submit contrib/spark/fleet_postmortem.py sql --dataset fleet-dataset \\
                  --min-mb-per-hour 5 --tag Toke --more-than-hosts 1

Both print their answers; `--json` prints them as one JSON document (what check.sh compares with the
simulator's truth.json). `--master local[2]` runs on this machine (two cores). contrib/spark/README.md has the set-up.
"""

import argparse
import glob
import json
import os
import stat
import subprocess
import sys

from pyspark import SparkFiles
from pyspark.sql import SparkSession
from pyspark.sql import types as T

# The one table the analyze job writes: a few typed columns every record kind shares, and the record itself
# as JSON (`detail`, the element of `analyze --format json`, whose fields SCHEMA.md and ANALYSIS.md explain).
RESULT_SCHEMA = T.StructType(
    [
        T.StructField("record", T.StringType(), False),  # suspect | projection | attribution | error
        T.StructField("archive", T.StringType(), False),  # the archive path given to the job
        T.StructField("host", T.StringType(), True),
        T.StructField("boot", T.LongType(), True),
        T.StructField("leak_found", T.BooleanType(), True),  # the host's verdict
        T.StructField("tag", T.StringType(), True),  # suspects, attributions
        T.StructField("pool", T.StringType(), True),  # paged | nonpaged (| commit for projections)
        T.StructField("bytes_per_hour", T.DoubleType(), True),  # suspects, projections
        T.StructField("rank", T.LongType(), True),  # suspects
        T.StructField("exhaustion_at", T.StringType(), True),  # projections, RFC 3339 UTC
        T.StructField("process", T.StringType(), True),  # attributions
        T.StructField("account", T.StringType(), True),  # attributions
        T.StructField("share_of_growth", T.DoubleType(), True),  # suspects, attributions
        T.StructField("detail", T.StringType(), True),  # the JSON element, or the error text
    ]
)
FIELDS = [f.name for f in RESULT_SCHEMA.fields]

HOSTS_FASTER_THAN = """
SELECT host, round(max(bytes_per_hour) / 1e6, 3) AS mb_per_hour, max_by(boot, bytes_per_hour) AS boot
FROM suspects
WHERE tag = :tag AND bytes_per_hour > :min_mb_per_hour * 1e6
GROUP BY host
ORDER BY mb_per_hour DESC, host
"""

TAGS_ON_MANY_HOSTS = """
WITH per_host AS (
    SELECT tag, pool, host, max(bytes_per_hour) AS bytes_per_hour FROM suspects GROUP BY tag, pool, host
)
SELECT tag, pool, count(*) AS hosts, sort_array(collect_list(host)) AS host_names,
       round(max(bytes_per_hour) / 1e6, 3) AS max_mb_per_hour
FROM per_host
GROUP BY tag, pool
HAVING count(*) > :more_than_hosts
ORDER BY hosts DESC, max_mb_per_hour DESC, tag
"""


def row(record, archive, **values):
    out = dict.fromkeys(FIELDS)
    out.update(record=record, archive=archive, **values)
    return tuple(out[f] for f in FIELDS)


def analyze_archive(binary, archive):
    """Runs poolscope on one archive (on an executor) and yields result rows."""
    done = subprocess.run(
        [binary, "-q", "--no-progress", "analyze", archive, "--format", "json"],
        capture_output=True,
        text=True,
        errors="replace",
    )
    if done.returncode not in (0, 1):
        yield row("error", archive, detail=f"exit {done.returncode}: {done.stderr.strip()[-4000:]}")
        return
    try:
        analysis = json.loads(done.stdout)
    except ValueError as e:
        yield row("error", archive, detail=f"unreadable JSON from poolscope: {e}")
        return
    leak = {v["host"]: v["leak_found"] for v in analysis.get("verdicts", [])}
    for s in analysis.get("suspects", []):
        yield row(
            "suspect", archive, host=s["host"], boot=s["boot"], leak_found=leak.get(s["host"]), tag=s["tag"],
            pool=s["pool"], bytes_per_hour=float(s["bytes_per_hour"]), rank=s["rank"],
            share_of_growth=float(s["share_of_growth"]), detail=json.dumps(s, sort_keys=True),
        )
    for p in analysis.get("projections", []):
        yield row(
            "projection", archive, host=p["host"], boot=p["boot"], leak_found=leak.get(p["host"]), pool=p["pool"],
            bytes_per_hour=float(p["bytes_per_hour"]), exhaustion_at=p.get("exhaustion_at"),
            detail=json.dumps(p, sort_keys=True),
        )
    for a in analysis.get("attributions", []):
        share = a.get("share_of_growth")
        yield row(
            "attribution", archive, host=a["host"], boot=a["boot"], leak_found=leak.get(a["host"]), tag=a["tag"],
            process=a["process"], account=a.get("account"),
            share_of_growth=None if share is None else float(share), detail=json.dumps(a, sort_keys=True),
        )


def analyze_partition(archives, binary_name):
    """mapPartitions body: the shipped binary, made executable once per partition, over its archives."""
    binary = SparkFiles.get(binary_name)
    mode = os.stat(binary).st_mode
    if not mode & stat.S_IXUSR:
        os.chmod(binary, mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    for archive in archives:
        yield from analyze_archive(binary, archive)


def expand(patterns):
    archives = []
    for p in patterns:
        matches = sorted(glob.glob(p)) if glob.has_magic(p) else [p]
        if not matches:
            sys.exit(f"fleet_postmortem.py: no archive matches {p!r}")
        archives += [m.rstrip("/") for m in matches]
    return archives


def run_analyze(spark, args):
    archives = expand(args.archives)
    binary = os.path.abspath(args.poolscope)
    if not os.access(binary, os.X_OK):
        sys.exit(f"fleet_postmortem.py: {binary} is not an executable poolscope binary")
    spark.sparkContext.addFile(binary)
    name = os.path.basename(binary)
    slices = args.partitions or len(archives)
    rdd = spark.sparkContext.parallelize(archives, slices).mapPartitions(lambda it: analyze_partition(it, name))
    df = spark.createDataFrame(rdd, RESULT_SCHEMA)
    df.write.mode("overwrite").parquet(args.out)
    table = spark.read.parquet(args.out)
    counts = {r["record"]: r["count"] for r in table.groupBy("record").count().collect()}
    errors = [(r["archive"], r["detail"]) for r in table.where("record = 'error'").collect()]
    leaking = sorted({r["host"] for r in table.where("record = 'suspect' AND leak_found").collect()})
    result = {"archives": len(archives), "rows": counts, "errors": errors, "hosts_with_leak": leaking,
              "out": args.out}
    if args.json:
        print(json.dumps(result, sort_keys=True))
    else:
        print(f"{len(archives)} archive(s) -> {args.out}: {counts}")
        print(f"hosts with a leak: {', '.join(leaking) or 'none'}")
        for archive, detail in errors:
            print(f"error: {archive}: {detail}", file=sys.stderr)


def run_sql(spark, args):
    # Without type inference `host` stays a string even for a host named `123`; `boot` (a string from the
    # folder name then) is cast back to the int64 the files hold. Spark decodes `%XX` in `host=` itself.
    spark.conf.set("spark.sql.sources.partitionColumnTypeInference.enabled", "false")
    suspects = spark.read.parquet(os.path.join(args.dataset, "table=suspects"))
    suspects = suspects.withColumn("boot", suspects["boot"].cast("long"))
    suspects.createOrReplaceTempView("suspects")
    faster = spark.sql(HOSTS_FASTER_THAN, args={"tag": args.tag, "min_mb_per_hour": args.min_mb_per_hour})
    many = spark.sql(TAGS_ON_MANY_HOSTS, args={"more_than_hosts": args.more_than_hosts})
    if args.json:
        print(json.dumps({
            "hosts_faster_than": [r["host"] for r in faster.collect()],
            "tags_on_many_hosts": {f"{r['tag']}/{r['pool']}": list(r["host_names"]) for r in many.collect()},
        }, sort_keys=True))
    else:
        print(f"Hosts whose {args.tag} grows faster than {args.min_mb_per_hour} MB/h:")
        faster.show(truncate=False)
        print(f"Tags leaking on more than {args.more_than_hosts} host(s):")
        many.show(truncate=False)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--master", help="Spark master (e.g. local[2]); default: spark-submit's, else local[*]")
    parser.add_argument("--json", action="store_true", help="print the answers as one JSON document")
    sub = parser.add_subparsers(dest="job", required=True)
    a = sub.add_parser("analyze", help="run poolscope analyze per host archive on the executors")
    a.add_argument("archives", nargs="+", metavar="ARCHIVE", help="host archive folders or files, or globs")
    a.add_argument("--poolscope", required=True, help="the poolscope binary to ship to the executors")
    a.add_argument("--out", required=True, help="Parquet table to write (replaced)")
    a.add_argument("--partitions", type=int, help="Spark partitions [one per archive]")
    s = sub.add_parser("sql", help="Spark SQL over a `poolscope export` dataset")
    s.add_argument("--dataset", required=True, help="the DIR given to `poolscope export -o`")
    s.add_argument("--tag", default="Toke")
    s.add_argument("--min-mb-per-hour", type=float, default=1.0, help="X, MB (10^6 bytes) per hour")
    s.add_argument("--more-than-hosts", type=int, default=1, help="N")
    args = parser.parse_args()

    builder = SparkSession.builder.appName(f"poolscope fleet post-mortem ({args.job})")
    if args.master:
        builder = builder.master(args.master)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("WARN")
    try:
        run_analyze(spark, args) if args.job == "analyze" else run_sql(spark, args)
    finally:
        spark.stop()


if __name__ == "__main__":
    main()
