#!/usr/bin/env python3
"""Per-connection timelines from a `rangecat -v` log.

    bench/timeline.py [--per-conn] [--md] LOG [LOG...]

rangecat -v prints, per transfer slot K (one easy handle, one connection at
a time), "xfer K: first byte at OFF after W s (new|reused connection)" when
an attempt's first body byte lands and "xfer K: ended at byte C, G bytes in
T s" when it ends. An attempt therefore runs from its request (end - T) to
its first byte (waiting: the round trip, plus the handshake and server time
on a new connection) to its end (transferring). Between two attempts the
slot is idle: either it was relaunched at once (a gap of a few ms spent in
the event loop) or it had nothing to claim because the ring was full (a
ring-full stall) or it waited for a retry.

Printed per log: wall time; the share of slot-time spent waiting for first
bytes, transferring and idle; new connections; splits; retries; ring-full
stalls (idle gaps over GAP_MS not explained by a retry); how many splits
took a range whose owner had not yet received its first byte; median time to
first byte; median bytes per attempt; median transfer rate of attempts on
new connections, on reused ones, and on reused ones after an idle gap
longer than the round trip (slow start after idle).
"""
import re
import statistics
import sys

GAP_MS = 5.0
TS = r"^\[\s*([0-9.]+)\] "
FIRST = re.compile(TS + r"xfer (\d+): first byte at (\d+) after ([0-9.]+) s "
                   r"\((new|reused) connection\)")
END = re.compile(TS + r"xfer (\d+): ended at byte (\d+), (\d+) bytes in "
                 r"([0-9.]+) s")
SPLIT = re.compile(TS + r"split: bytes (\d+)-")
RETRY = re.compile(TS + r"at byte \d+: .*; retry ")
LAST = re.compile(TS + r"delivered (\d+) bytes")
ANY = re.compile(TS)


def parse(path):
    att = {}        # xfer -> [attempt dict]
    pending = {}    # xfer -> first-byte info of the running attempt
    splits, retries, wall, delivered = [], [], 0.0, 0
    with open(path, errors="replace") as f:
        for line in f:
            m = ANY.match(line)
            if m:
                wall = max(wall, float(m.group(1)))
            m = FIRST.match(line)
            if m:
                pending[int(m.group(2))] = (float(m.group(1)),
                                            m.group(5) == "new")
                continue
            m = END.match(line)
            if m:
                t, k = float(m.group(1)), int(m.group(2))
                first = pending.pop(k, None)
                a = {"start": t - float(m.group(5)), "end": t,
                     "got": int(m.group(4)), "at": int(m.group(3)),
                     "first": first[0] if first else None,
                     "new": first[1] if first else False}
                att.setdefault(k, []).append(a)
                continue
            m = SPLIT.match(line)
            if m:
                splits.append((float(m.group(1)), int(m.group(2))))
            elif RETRY.match(line):
                retries.append(float(RETRY.match(line).group(1)))
            m = LAST.match(line)
            if m:
                delivered = int(m.group(2))
    return att, splits, retries, wall, delivered


def med(v):
    return statistics.median(v) if v else float("nan")


def analyse(path, rtt=0.1):
    att, splits, retries, wall, delivered = parse(path)
    wait = xfer = idle = 0.0
    stalls, stall_time, ttfb, sizes = 0, 0.0, [], []
    rate_new, rate_reused, rate_after_idle = [], [], []
    per = []
    for k in sorted(att):
        a = sorted(att[k], key=lambda x: x["start"])
        kw = kx = ki = 0.0
        prev_end = None
        for x in a:
            gap = x["start"] - prev_end if prev_end is not None else None
            if gap is not None and gap > 0:
                ki += gap
                if gap * 1000 > GAP_MS and not any(
                        prev_end - 0.002 <= r <= x["start"] + 0.002
                        for r in retries):
                    stalls += 1
                    stall_time += gap
            if x["first"] is not None:
                w = x["first"] - x["start"]
                d = x["end"] - x["first"]
                kw += w
                kx += d
                ttfb.append(w)
                if d > 0 and x["got"] >= 64 << 10:
                    r = x["got"] / d / (1 << 20)
                    if x["new"]:
                        rate_new.append(r)
                    else:
                        rate_reused.append(r)
                        if gap is not None and gap > rtt:
                            rate_after_idle.append(r)
            else:
                kw += x["end"] - x["start"]
            sizes.append(x["got"])
            prev_end = x["end"]
        # before its first request and after its last: idle too
        ki += a[0]["start"] + max(0.0, wall - prev_end)
        wait += kw
        xfer += kx
        idle += ki
        per.append((k, len(a), sum(x["new"] for x in a), kw, kx, ki,
                    sum(x["got"] for x in a)))
    # A split's owner stops at the split point: it is the attempt running
    # then that ends there. Was it still waiting for its first byte?
    early = 0
    for t, mid in splits:
        for v in att.values():
            o = [x for x in v if x["start"] <= t <= x["end"] and
                 x["at"] == mid]
            if o:
                if o[0]["first"] is None or o[0]["first"] > t:
                    early += 1
                break
    total = wait + xfer + idle or 1.0
    return {
        "log": path, "wall": wall, "delivered": delivered,
        "slots": len(att), "attempts": sum(len(v) for v in att.values()),
        "new_conns": sum(p[2] for p in per), "splits": len(splits),
        "early": early,
        "retries": len(retries), "wait_pct": 100 * wait / total,
        "xfer_pct": 100 * xfer / total, "idle_pct": 100 * idle / total,
        "stalls": stalls, "stall_s": stall_time,
        "ttfb_ms": 1000 * med(ttfb), "size_kib": med(sizes) / 1024,
        "rate_new": med(rate_new), "rate_reused": med(rate_reused),
        "rate_after_idle": med(rate_after_idle),
        "n_after_idle": len(rate_after_idle), "per": per,
    }


HEADER = ["run", "wall", "MiB/s", "attempts", "new connections",
          "splits (of a range before its first byte)",
          "retries", "waiting for first byte", "transferring", "idle",
          "ring-full stalls (s)", "median first byte", "median attempt",
          "MiB/s per attempt: new / reused / reused after idle > RTT"]


def row(r, label=None):
    return [label or r["log"], "%.2f s" % r["wall"],
            "%.1f" % (r["delivered"] / (1 << 20) / r["wall"])
            if r["wall"] else "-",
            r["attempts"], r["new_conns"],
            "%d (%d)" % (r["splits"], r["early"]), r["retries"],
            "%.0f%%" % r["wait_pct"], "%.0f%%" % r["xfer_pct"],
            "%.0f%%" % r["idle_pct"],
            "%d (%.1f s)" % (r["stalls"], r["stall_s"]),
            "%.0f ms" % r["ttfb_ms"], "%.0f KiB" % r["size_kib"],
            "%.1f / %.1f / %.1f (%d)" % (r["rate_new"], r["rate_reused"],
                                         r["rate_after_idle"],
                                         r["n_after_idle"])]


def main(argv):
    per = "--per-conn" in argv
    md = "--md" in argv
    logs = [a for a in argv if not a.startswith("--")]
    if not logs:
        sys.exit(__doc__)
    rows = []
    for path in logs:
        r = analyse(path)
        rows.append(row(r))
        if per:
            print("%s: per slot (attempts, new connections, waiting, "
                  "transferring, idle, MiB)" % path)
            for k, n, new, w, x, i, got in r["per"]:
                print("  xfer %2d: %4d attempts %4d new  wait %6.2f s  "
                      "xfer %6.2f s  idle %6.2f s  %7.1f MiB" % (
                          k, n, new, w, x, i, got / (1 << 20)))
    if md:
        print("| " + " | ".join(HEADER) + " |")
        print("|" + " --- |" * len(HEADER))
        for r in rows:
            print("| " + " | ".join(str(c) for c in r) + " |")
    else:
        for r in rows:
            for h, c in zip(HEADER, r):
                print("%-58s %s" % (h, c))
            print()


if __name__ == "__main__":
    main(sys.argv[1:])
