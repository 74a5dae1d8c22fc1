"""Instructions per line of the classification benchmark, counted by callgrind.

Usage: ``python bench/classify_instructions.py [--lines N] [--runs K]``

Wall-clock figures on a shared machine move with the hour; instruction counts do not.
This runs the same work as ``bench/classify_throughput.py`` (``enrich_payload`` over the
relay log mix of ``bench/log_mix.py``, after a 1,000-line warm-up) under ``valgrind
--tool=callgrind`` twice, over 0 lines and over ``--lines`` lines, and prints the
difference per line: start-up, imports and the warm-up cancel out. Compare two versions
by running it in each work tree. Needs ``valgrind`` on the PATH (Debian: ``valgrind``).

``--measure N`` is the inner step (what runs under callgrind): classify N lines.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from log_mix import relay_log_lines  # bench/ is first on sys.path

from processor.classifier.policy import default_policy
from processor.enrich import enrich_payload

_WARM_UP = 1_000
_REFERENCE_TIME = 1_796_000_000.0
_TOTALS = re.compile(rb"^(?:summary|totals): (\d+)", re.MULTILINE)


def _measure(count: int, total: int) -> None:
    """Warm up, then classify ``count`` lines of the ``total``-line mix."""
    lines = relay_log_lines(_WARM_UP + total)
    policy = default_policy()
    for line in lines[:_WARM_UP]:
        enrich_payload(line, policy=policy, reference_time=_REFERENCE_TIME)
    for line in lines[_WARM_UP : _WARM_UP + count]:
        enrich_payload(line, policy=policy, reference_time=_REFERENCE_TIME)


def _instructions(count: int, total: int, valgrind: str) -> int:
    """Instructions callgrind counts for a whole ``--measure count`` process."""
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "callgrind.out"
        command = [valgrind, "--tool=callgrind", f"--callgrind-out-file={out}"]
        command += [sys.executable, __file__, "--measure", str(count), "--lines", str(total)]
        # one hash seed for both runs: dict and set layouts (so their work) depend on it
        environment = {"PYTHONHASHSEED": "0", **os.environ}
        subprocess.run(command, check=True, capture_output=True, env=environment)
        found = _TOTALS.search(out.read_bytes())
    if found is None:
        raise RuntimeError("callgrind wrote no instruction total")
    return int(found.group(1))


def main(argv: list[str] | None = None) -> int:
    """Print instructions per classified line (and the runs' spread)."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--lines", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--measure", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure is not None:
        _measure(args.measure, args.lines)
        return 0
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        print("valgrind is not installed", file=sys.stderr)
        return 1
    per_line = []
    for run in range(1, args.runs + 1):
        empty = _instructions(0, args.lines, valgrind)
        full = _instructions(args.lines, args.lines, valgrind)
        per_line.append((full - empty) / args.lines)
        print(f"run {run}: {per_line[-1]:,.0f} instructions per line")
    print(f"\nlines: {args.lines:,} after {_WARM_UP:,} of warm-up  python {sys.version.split()[0]}")
    print(f"instructions per line (parse + classify + record): {min(per_line):,.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
