"""ReDoS: every stdlib pattern in the package meets adversarial input built for it.

tests/unit/test_extract.py proves the structure (bounded quantifiers only) of the code
extraction patterns; here every compiled ``re`` pattern found in any ``processor``
module, the email and platform parsers included, is run over inputs made of its own
characters: each character repeated, all of them cycled, a random mix, and hand-made
near misses for the patterns with a long reach. A pattern added later gets the same
treatment without a test change. Text rules and site-policy patterns are RE2 (linear by
construction) and are exercised by the 1 MB diagnostic in test_hostile_inputs.py.

No timing assertion: a super-linear pattern on 50,000 characters would run for hours,
and the suite's timeout fails it.
"""

from __future__ import annotations

import importlib
import pkgutil
import random
import re
import re._parser as sre_parse  # type: ignore[import-not-found]
from collections.abc import Iterator

import pytest

import processor

LENGTH = 50_000
#: Patterns that never see remote text (environment variable names).
NOT_REMOTE = {"processor.stream.config._K8S_SERVICE_LINK"}

_LINE_PREFIX = (
    "Nov 29 10:00:01 mx1 postfix/smtp[123]: 4F3C2A1B9D: to=<a@example.com>, "
    "relay=mx.example.com[192.0.2.10]:25, delay=1.2, delays=0.1/0/0.5/0.6, "
    "dsn=5.1.1, status=bounced ("
)
#: Near misses that drive a pattern through its longest backtracking path.
CRAFTED: dict[str, list[str]] = {
    "processor.parse.postfix_fast.FAST_DELIVERY": [
        _LINE_PREFIX + "a)" * 200_000 + "b",  # the trailing (.*)\) must give up every ")"
        _LINE_PREFIX + "(" * 400_000,
        _LINE_PREFIX + "(250 2.0.0 " + "a)" * 200_000 + "b",  # leading codes, then no ")"
    ],
    "processor.parse.email.message._ADDRESS": ["a" * 64 + "@" + "a-" * 100_000],
    "processor.parse.email.dsn._ADDRESS": ["a" * 63 + "@" + "a." * 100_000 + " "],
    "processor.parse.email.reports._FIELD": ["A" * 60 + " " * 20 + ":" + " " * 20 + "x" * 300_000],
    "processor.parse.email.message._FOLD": ["\r\n" + " " * 1_000 + "x" * 10] * 1,
}


def _patterns() -> Iterator[tuple[str, re.Pattern[str] | re.Pattern[bytes]]]:
    for info in pkgutil.walk_packages(processor.__path__, "processor."):
        if info.name.endswith("__main__"):
            continue
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            qualified = f"{info.name}.{name}"
            if isinstance(value, re.Pattern) and qualified not in NOT_REMOTE:
                yield qualified, value


PATTERNS = dict(_patterns())


def _alphabet(pattern: re.Pattern[str] | re.Pattern[bytes]) -> list[str]:
    """Characters the pattern mentions (literals, range ends, class representatives)."""
    source = pattern.pattern
    text = source if isinstance(source, str) else source.decode("latin-1")
    found: set[str] = set()
    stack = [sre_parse.parse(text, pattern.flags if isinstance(source, str) else 0)]
    while stack:
        for op, arg in stack.pop():
            name = str(op)
            if name == "LITERAL":
                found.add(chr(arg))
            elif name == "IN":
                for item_op, item in arg:
                    if str(item_op) == "LITERAL":
                        found.add(chr(item))
                    elif str(item_op) == "RANGE":
                        found.update({chr(item[0]), chr(item[1])})
                    else:
                        found.update("a0 \n")
            elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
                stack.append(arg[2])
            elif name == "SUBPATTERN":
                stack.append(arg[-1])
            elif name == "BRANCH":
                stack.extend(arg[1])
            elif name in ("ASSERT", "ASSERT_NOT"):
                stack.append(arg[1])
            elif name in ("ANY", "CATEGORY"):
                found.update("x0 \n")
    return sorted(found)


def _inputs(name: str, pattern: re.Pattern[str] | re.Pattern[bytes]) -> list[str]:
    alphabet = _alphabet(pattern)
    rng = random.Random(name)
    return [
        *(c * LENGTH for c in alphabet),
        "".join(alphabet) * (LENGTH // len(alphabet)),
        "".join(rng.choices(alphabet, k=LENGTH)),
        *CRAFTED.get(name, []),
    ]


def test_the_patterns_are_found() -> None:
    assert len(PATTERNS) >= 30
    assert set(CRAFTED) <= set(PATTERNS), set(CRAFTED) - set(PATTERNS)


@pytest.mark.parametrize("name", sorted(PATTERNS))
def test_pattern_survives_adversarial_input(name: str) -> None:
    pattern = PATTERNS[name]
    for text in _inputs(name, pattern):
        if isinstance(pattern.pattern, bytes):
            data: str | bytes = text.encode("latin-1", "replace")
        else:
            data = text
        pattern.search(data)  # type: ignore[arg-type]
        pattern.match(data)  # type: ignore[arg-type]
        for _ in pattern.finditer(data):  # type: ignore[arg-type]
            pass
