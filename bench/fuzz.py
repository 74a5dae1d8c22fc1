"""Fuzz the per-message path with a long budget; then time the named worst cases.

The target and the strategies are the suite's (``tests/fuzzing.py``): any message value,
key and headers in; no exception may escape, and every message must end up as exactly
one of output, dead letter or skipped, within the size limits. Prints how many inputs
were tried and what became of them, then, for each worst case (10 MB payload, 1 MB
diagnostic, 10,000 recipients, deep JSON, ...), its outcome, wall time and peak Python
heap (tracemalloc).

    PYTHONPATH=. python bench/fuzz.py                    # 20,000 inputs
    PYTHONPATH=. python bench/fuzz.py --examples 200000 --seed 7
"""

from __future__ import annotations

import argparse
import time
import tracemalloc
from collections import Counter
from typing import Any

from hypothesis import HealthCheck, given, seed, settings

from tests.fuzzing import HEADERS, KEYS, LIMITS, PAYLOADS, WORST_CASES, check, handle


def fuzz(examples: int, fuzz_seed: int) -> tuple[Counter[str], int, float]:
    """Run ``examples`` generated messages; returns outcome counts, inputs tried, seconds."""
    outcomes: Counter[str] = Counter()
    tried = 0

    @seed(fuzz_seed)
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(PAYLOADS, KEYS, HEADERS, LIMITS)
    def target(
        value: bytes | None, key: bytes | None, headers: Any, limits: tuple[int, int]
    ) -> None:
        nonlocal tried
        tried += 1
        max_payload, max_record = limits
        outcome = handle(
            value, key, headers, max_payload_bytes=max_payload, max_record_bytes=max_record
        )
        check(outcome, max_record)
        outcomes[outcome.kind] += 1

    started = time.perf_counter()
    target()
    return outcomes, tried, time.perf_counter() - started


def worst_cases() -> list[tuple[str, str, float, int, int]]:
    """(name, outcome, seconds, peak heap bytes, input bytes) per named worst case.

    Timed without tracing; the peak heap comes from a second, traced run (tracemalloc
    slows allocation-heavy work several times over).
    """
    rows = []
    for name, (make, expected) in WORST_CASES.items():
        value = make()
        started = time.perf_counter()
        outcome = handle(value)
        seconds = time.perf_counter() - started
        tracemalloc.start()
        handle(value)
        _current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        check(outcome)
        assert outcome.kind == expected, (name, outcome.kind)
        rows.append((name, outcome.kind, seconds, peak, len(value)))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=20_000, help="inputs to generate")
    parser.add_argument("--seed", type=int, default=0, help="hypothesis seed")
    args = parser.parse_args()
    outcomes, tried, seconds = fuzz(args.examples, args.seed)
    print(f"fuzz: {tried} inputs tried in {seconds:.1f} s, no exception escaped")
    for kind in ("output", "dead_letter", "skipped"):
        print(f"  {kind:12} {outcomes[kind]:8d}")
    print("\nworst cases (one message each):")
    print(f"  {'case':42} {'input':>10} {'outcome':12} {'seconds':>8} {'peak heap':>10}")
    for name, kind, secs, peak, size in worst_cases():
        print(f"  {name:42} {size:>10,} {kind:12} {secs:8.3f} {peak / 1e6:8.1f} MB")


if __name__ == "__main__":
    main()
