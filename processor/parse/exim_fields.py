"""The text after an Exim log line's flag: address, parents, fields, failure text.

Exim 4 specification, chapter "Log files", sections "Logging deliveries",
"Deferred deliveries" and "Delivery failures"::

    bob@example.net <alias@example.org> R=dnslookup T=remote_smtp H=mx.example.net
        [192.0.2.20] X=TLS1.3:...:256 C="250 2.0.0 Ok" DT=1s
    bob@example.net R=dnslookup T=remote_smtp defer (-44) H=mx.example.net [192.0.2.20]:
        SMTP error from remote mail server after RCPT TO:<bob@example.net>: 451 4.7.1 ...

Field values may be double-quoted (``C="..."``, ``DN="..."``) and hold spaces and
``": "``; ``H=`` is followed by its ``[ip]`` (and ``:port`` with ``+outgoing_port``).
String methods only; every scan resumes where the previous one stopped, so each
step is linear in the text, and token and parent counts are bounded.
"""

from __future__ import annotations

__all__ = ["address_parts", "duration", "failure_command", "split_failure", "unbracket"]

_MAX_PARENTS = 16
_MAX_FIELDS = 64

#: "SMTP error from remote mail server after [pipelined ]<command>" -> canonical command.
_COMMANDS = (
    ("RCPT TO", "RCPT TO"),
    ("MAIL FROM", "MAIL FROM"),
    ("end of data", "DATA"),
    ("DATA", "DATA"),
    ("EHLO", "EHLO"),
    ("HELO", "HELO"),
    ("STARTTLS", "STARTTLS"),
    ("AUTH", "AUTH"),
    ("initial connection", "CONNECT"),
)
#: Exim's words before the command a failure answered: "SMTP error from remote mail server
#: after ...", "SMTP timeout after ...", "Remote host closed connection in response to ...",
#: a callout's 'response to "RCPT TO:<...>" from host [ip] was: ...'.
_MARKERS = (" after ", "response to ")


def split_failure(rest: str) -> tuple[str, str | None]:
    """Cut ``address fields: failure text`` at the first ``": "`` outside double quotes.

    Each scan starts where the previous one stopped: linear in ``rest``.
    """
    colon = rest.find(": ")
    position = 0
    while colon >= 0:
        quote = rest.find('"', position, colon)
        if quote < 0:
            return rest[:colon], rest[colon + 2 :].strip()
        close = rest.find('"', quote + 1)
        if close < 0:
            return rest, None
        position = close + 1
        if colon < position:
            colon = rest.find(": ", position)
    return rest.removesuffix(":"), None


def address_parts(head: str) -> tuple[str, list[str], dict[str, str]]:
    """``address <parent>... K=V ...`` -> (address, parents, fields)."""
    tokens = _tokens(head)
    if not tokens:
        return "", [], {}
    address, index = tokens[0], 1
    parents: list[str] = []
    while index < len(tokens) and len(parents) < _MAX_PARENTS:
        token = tokens[index]
        if not (token.startswith("<") and token.endswith(">")):
            break
        parents.append(token[1:-1])
        index += 1
    return address, parents, _fields(tokens[index:])


def _tokens(text: str) -> list[str]:
    """Split on spaces, keeping a double-quoted value (``C="250 OK id=x"``) in one token."""
    tokens: list[str] = []
    position, length = 0, len(text)
    while position < length and len(tokens) < _MAX_FIELDS:
        if text[position] == " ":
            position += 1
            continue
        space = text.find(" ", position)
        quote = text.find('"', position, length if space < 0 else space)
        if quote >= 0:
            close = text.find('"', quote + 1)
            end = text.find(" ", close + 1) if close >= 0 else -1
        else:
            end = space
        end = length if end < 0 else end
        tokens.append(text[position:end])
        position = end + 1
    return tokens


def _fields(tokens: list[str]) -> dict[str, str]:
    """``K=V`` tokens -> dict; ``H=host`` takes its ``[ip]``/``(helo)`` tokens along."""
    fields: dict[str, str] = {}
    index = 0
    while index < len(tokens):
        key, equals, value = tokens[index].partition("=")
        index += 1
        if not equals:
            continue
        if key == "H":
            while index < len(tokens) and tokens[index][:1] in ("[", "("):
                value += " " + tokens[index]
                index += 1
        if value.startswith('"') and value.endswith('"') and len(value) >= 2:
            value = value[1:-1]
        fields.setdefault(key, value)
    return fields


def unbracket(value: str | None) -> str | None:
    """``<news@example.org>`` -> ``news@example.org``; other values as given, ``None`` kept."""
    if value is None:
        return None
    return value[1:-1] if value.startswith("<") and value.endswith(">") else value


_UNITS = {"w": 604_800.0, "d": 86_400.0, "h": 3_600.0, "m": 60.0, "s": 1.0}


def duration(value: str | None) -> float | None:
    """Exim time interval (``DT=1s``, ``DT=2m3s``, ``DT=1.234s``) in seconds; ``None`` if bad."""
    if not value or len(value) > 32:
        return None
    total, number = 0.0, ""
    for char in value:
        if char.isdigit() or char == ".":
            number += char
            continue
        unit = _UNITS.get(char)
        if unit is None or not number or number.count(".") > 1:
            return None
        total += float(number) * unit
        number = ""
    return None if number else total


def failure_command(text: str | None) -> str | None:
    """The SMTP command a failure answered, from Exim's words before it.

    ``SMTP error from remote mail server after RCPT TO:<...>: 550 ...`` -> ``RCPT TO``;
    also ``SMTP timeout after ...``, ``Remote host closed connection in response to ...``
    and ``response to "MAIL FROM:<...>" from host [ip] was: ...``; ``pipelined`` is
    skipped. A failure at the server's greeting (``after initial connection``) gives
    ``CONNECT``: no command had been sent (RFC 5321 §3.1), so the refusal is of the
    connecting host. The earliest marker decides; ``None`` when no command is named.
    """
    if not text:
        return None
    found = [at + len(marker) for marker in _MARKERS if (at := text.find(marker)) >= 0]
    if not found:
        return None
    start = min(found)
    tail = text[start : start + 40].removeprefix('"').removeprefix("pipelined ")
    for prefix, name in _COMMANDS:
        if tail.startswith(prefix):
            return name
    return None
