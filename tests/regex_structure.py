"""Structural check behind the linear-time promise for stdlib patterns over remote text.

A pattern whose quantifiers are all bounded does constant work per start position, so a
search is linear in the text; an unbounded quantifier (``*``, ``+``, ``{n,}``) is where
backtracking can blow up. Used by tests/unit/test_extract.py and test_email_robustness.py.
"""

from __future__ import annotations

import re._parser as sre_parse  # type: ignore[import-not-found]

_UNBOUNDED = 4294967295  # sre's MAXREPEAT


def unbounded_repeats(pattern: str) -> int:
    """Count unbounded repeats (``*``, ``+``, ``{n,}``) in ``pattern``'s parse tree."""
    count = 0
    stack = [sre_parse.parse(pattern)]
    while stack:
        node = stack.pop()
        for op, arg in node:
            name = str(op)
            if name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
                count += arg[1] == _UNBOUNDED
                stack.append(arg[2])
            elif name == "SUBPATTERN":
                stack.append(arg[-1])
            elif name == "BRANCH":
                stack.extend(arg[1])
            elif name in ("ASSERT", "ASSERT_NOT"):
                stack.append(arg[1])
    return count
