"""Remote-controlled text made safe to show: terminals, log lines, Kafka headers.

Diagnostic texts, payloads and error messages come from mail servers anyone can
run; a terminal escape sequence in them must never reach a terminal or a log
collector raw.
"""

from __future__ import annotations

import re

__all__ = ["printable"]

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")  # C0, DEL, C1 (ESC starts terminal escapes)


def _escape(found: re.Match[str]) -> str:
    return f"\\x{ord(found.group()):02x}"


def printable(text: str, limit: int = 200) -> str:
    """``text`` with control characters shown as ``\\xNN`` and cut to ``limit`` characters.

    A cut text ends with ``...`` (within ``limit``).
    """
    if len(text) > limit:
        text = text[: max(limit - 3, 0)] + "..."
    if text.isprintable():
        return text
    escaped = _CONTROL.sub(_escape, text)
    return escaped if len(escaped) <= limit else escaped[: max(limit - 3, 0)] + "..."
