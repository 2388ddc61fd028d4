#!/usr/bin/env python3
"""A held-out mutation campaign over the poolscope binary (issue 14): random seeds from fixtures/, mutated the
ways files from hung servers and half-copied archives are broken, each run through `poolscope parse` and
`poolscope analyze`; every crash (a signal or an exit code other than 0, 1 and 2), hang (over the time limit)
or memory blow-up (peak RSS over the limit) is kept with the command that shows it.

Usage: scripts/mutation-campaign.py BINARY [--inputs N] [--seed S] [--jobs J] [--timeout SEC] [--rss-mib MIB]
                                          [--keep DIR]
  Prints one line per finding and a summary (inputs, runs, seconds, findings by kind, peak RSS seen).
  Exit status 1 when anything was found. Deterministic for a given --seed (the mutations, not the timings).
"""

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# Seeds larger than this are cut to it first (the campaign is about breakage, not volume).
MAX_SEED_BYTES = 256 * 1024


def seeds():
    """Every fixture file small enough to mutate many times, in a stable order."""
    out = []
    for path in sorted((REPO / "fixtures").rglob("*")):
        if path.is_file() and path.stat().st_size > 0 and "snapshots" not in path.parts:
            out.append(path)
    return out


def mutate(data: bytes, rng: random.Random) -> bytes:
    """One to four mutations from the ways real inputs break."""
    data = bytearray(data[:MAX_SEED_BYTES])
    for _ in range(rng.randint(1, 4)):
        kind = rng.randrange(11)
        n = len(data)
        if kind == 0 and n:  # bit flips
            for _ in range(rng.randint(1, 16)):
                i = rng.randrange(n)
                data[i] ^= 1 << rng.randrange(8)
        elif kind == 1 and n:  # truncation (a half-copied file, a snapshot cut at the hang)
            data = data[: rng.randrange(n)]
        elif kind == 2:  # huge or negative numbers where digits were
            digits = [i for i, b in enumerate(data[:65536]) if 48 <= b <= 57]
            if digits:
                i = rng.choice(digits)
                data[i : i + 1] = rng.choice([b"99999999999999999999999", b"-1", b"18446744073709551616", b"1e308"])
        elif kind == 3 and n:  # NUL runs (a file whose tail was never written)
            i = rng.randrange(n)
            data[i:i] = b"\0" * rng.choice([1, 7, 4096, 65536])
        elif kind == 4 and n:  # a block repeated (a loop appending twice)
            i = rng.randrange(n)
            j = min(n, i + rng.randint(1, 8192))
            data[j:j] = data[i:j] * rng.randint(1, 8)
        elif kind == 5 and n:  # a block deleted
            i = rng.randrange(n)
            del data[i : i + rng.randint(1, 4096)]
        elif kind == 6:  # re-encoded as UTF-16LE with BOM, part or whole
            cut = rng.randrange(len(data) + 1)
            text = bytes(data[cut:]).decode("latin-1")
            data = data[:cut] + b"\xff\xfe" + text.encode("utf-16-le")
        elif kind == 7 and n:  # a very long line
            i = rng.randrange(n)
            data[i:i] = b"A" * rng.choice([70000, 1 << 20])
        elif kind == 8 and n:  # line endings changed
            data = bytearray(bytes(data).replace(b"\r\n", b"\n") if rng.random() < 0.5 else bytes(data).replace(b"\n", b"\r\n"))
        elif kind == 9 and n:  # random bytes spliced in
            i = rng.randrange(n)
            data[i:i] = os.urandom(rng.randint(1, 512))
        elif kind == 10 and n > 4096:  # evtx-like: a 64 KiB chunk's header region scrambled, or a chunk dropped
            i = rng.randrange(0, n, 4096)
            data[i : i + 512] = bytes(rng.randrange(256) for _ in range(min(512, n - i)))
    return bytes(data)


def run_measured(cmd, timeout, rss_limit):
    """Runs a command; returns (kind of finding or None, detail, the command's own peak RSS in KiB, from wait4)."""
    start = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = start + timeout
    # stderr is read on a thread so that a chatty child cannot block on a full pipe while it is waited for.
    chunks = []
    reader = threading.Thread(target=lambda: chunks.append(proc.stderr.read()), daemon=True)
    reader.start()
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() > deadline:
            proc.kill()
            os.wait4(proc.pid, 0)
            reader.join(1)
            return "hang", f"over {timeout} s", 0
        time.sleep(0.01)
    reader.join(5)
    err = b"".join(chunks)
    proc.returncode = os.waitstatus_to_exitcode(status)
    rss_kib = usage.ru_maxrss
    code = proc.returncode
    tail = err.decode("utf-8", "replace")[-400:]
    if code < 0:
        return "crash", f"signal {-code}: {tail}", rss_kib
    if code not in (0, 1, 2):
        return "crash", f"exit {code}: {tail}", rss_kib
    if b"panicked" in err:
        return "crash", f"panic: {tail}", rss_kib
    if b"Usage:" in err:
        # The campaign's own command line is wrong: every run would "pass" with exit 2.
        sys.exit(f"mutation-campaign: usage error from {' '.join(cmd)}: {tail}")
    if rss_kib > rss_limit * 1024:
        return "memory", f"peak {rss_kib // 1024} MiB", rss_kib
    return None, f"{time.monotonic() - start:.2f} s", rss_kib


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("binary")
    ap.add_argument("--inputs", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=20261207)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=20.0)
    ap.add_argument("--rss-mib", type=int, default=512)
    ap.add_argument("--keep", default=None, help="folder for the inputs that found something")
    args = ap.parse_args()
    binary = str(Path(args.binary).resolve())
    pool = seeds()
    if not pool:
        sys.exit("no seeds under fixtures/")
    rng = random.Random(args.seed)
    work = Path(tempfile.mkdtemp(prefix="poolscope-mutation-"))
    keep = Path(args.keep) if args.keep else None
    plan = []
    for i in range(args.inputs):
        seed = rng.choice(pool)
        data = mutate(seed.read_bytes(), random.Random(rng.getrandbits(64)))
        # Keep the seed's file name: names carry hosts and stamps the parsers read.
        path = work / f"{i:06d}" / seed.name
        path.parent.mkdir(parents=True)
        path.write_bytes(data)
        plan.append((seed, path))

    def one(item):
        seed, path = item
        found = []
        peak = 0
        for cmd in (
            [binary, "-q", "--no-progress", "parse", str(path), "--format", "json"],
            [binary, "-q", "--no-progress", "analyze", str(path.parent), "--format", "json"],
        ):
            kind, detail, rss = run_measured(cmd, args.timeout, args.rss_mib)
            peak = max(peak, rss)
            if kind:
                found.append((kind, detail, cmd))
        return seed, path, found, peak

    start = time.monotonic()
    findings = {"crash": 0, "hang": 0, "memory": 0}
    peak = 0
    with ThreadPoolExecutor(max_workers=args.jobs) as ex:
        for seed, path, found, rss in ex.map(one, plan):
            peak = max(peak, rss)
            for kind, detail, cmd in found:
                findings[kind] += 1
                print(f"{kind}: seed {seed.relative_to(REPO)} -> {path} ({detail}): {' '.join(cmd[1:])}")
                if keep:
                    dest = keep / path.parent.name
                    dest.mkdir(parents=True, exist_ok=True)
                    shutil.copy(path, dest / path.name)
    seconds = time.monotonic() - start
    shutil.rmtree(work, ignore_errors=True)
    total = sum(findings.values())
    print(
        f"mutation campaign: {args.inputs} inputs from {len(pool)} seeds (seed {args.seed}), {2 * args.inputs} runs "
        f"in {seconds:.0f} s on {args.jobs} jobs; crashes {findings['crash']}, hangs {findings['hang']} "
        f"(> {args.timeout:g} s), memory blow-ups {findings['memory']} (> {args.rss_mib} MiB); "
        f"largest peak RSS {peak // 1024} MiB"
    )
    sys.exit(1 if total else 0)


if __name__ == "__main__":
    main()
