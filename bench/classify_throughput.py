"""Classification throughput on a realistic Postfix log mix, next to a baseline.

Usage: ``python bench/classify_throughput.py [--lines N] [--runs K] [--shape S]``

Both loops run in the same process over the same lines, one after the other,
``--runs`` times; the medians and their ratio are printed. The baseline does
only ``orjson.dumps`` of the raw line (the floor of any Python JSON-out loop).
The input is a production relay's delivery log (``bench/log_mix.py``: 78% sent,
10% deferred, 8% bounced, 2% SOFTBOUNCE, 2% non-delivery lines), as plain RFC 3164
lines or, with ``--shape``, as a log agent or another syslog format delivers them.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable

import orjson
from log_mix import SHAPES, relay_log_lines, shaped  # bench/ is first on sys.path

from processor.classifier.policy import default_policy
from processor.enrich import enrich_payload


def _rate(loop: Callable[[list[bytes]], None], lines: list[bytes]) -> float:
    start = time.perf_counter()
    loop(lines)
    return len(lines) / (time.perf_counter() - start)


def _classify(lines: list[bytes]) -> None:
    policy = default_policy()
    for line in lines:
        enrich_payload(line, policy=policy, reference_time=1_796_000_000.0)


def _baseline(lines: list[bytes]) -> None:
    dumps = orjson.dumps
    for line in lines:
        dumps(line.decode("utf-8", "replace"))


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print lines/s (median) for both loops and their ratio."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--lines", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--shape",
        choices=SHAPES,
        default="rfc3164",
        help="how the log arrives: plain RFC 3164 lines (default), a Fluent Bit JSON record, "
        "a raw CRI container line, RFC 5424",
    )
    args = parser.parse_args(argv)
    lines = shaped(relay_log_lines(args.lines), args.shape)
    _classify(lines[:1000])  # warm up: rule set compiled, caches primed
    classify_rates, baseline_rates = [], []
    for run in range(1, args.runs + 1):
        classify_rates.append(_rate(_classify, lines))
        baseline_rates.append(_rate(_baseline, lines))
        print(
            f"run {run}: classify {classify_rates[-1]:>10,.0f} lines/s   baseline {baseline_rates[-1]:>12,.0f} lines/s"
        )
    classify_median = statistics.median(classify_rates)
    baseline_median = statistics.median(baseline_rates)
    print(
        f"\nlines per run: {len(lines):,} ({args.shape})  runs: {args.runs}  "
        f"python {sys.version.split()[0]}"
    )
    print(
        f"classify (parse + classify + record), median: {classify_median:,.0f} lines/s "
        f"({1e6 / classify_median:.2f} us/line)"
    )
    print(f"baseline (orjson.dumps of the raw line), median: {baseline_median:,.0f} lines/s")
    print(f"ratio classify/baseline: {classify_median / baseline_median:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
