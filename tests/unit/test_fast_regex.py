"""The fast delivery regexes match exactly what their plain formulation matches.

:data:`processor.parse.postfix.FAST_DELIVERY` and ``FAST_DELIVERY_MESSAGE`` are written for
the speed of ``re`` (possessive quantifiers where a delimiter follows, ``[0-9][0-9]`` for
``[0-9]{2}``, ``(?:X|)`` for an optional part, addresses and relay read up to their closing
delimiter alone and refused after the match by ``fast_fields_refused``). The plain
formulation they replaced is kept here as the reference: on every line of the relay
corpus, on lines with any one or two fields at a usual or edge value, and on generated
noise and mutations, both give the same match (or none) and the same groups.
"""

from __future__ import annotations

import re
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from processor.parse.postfix_fast import (
    FAST_DELIVERY,
    FAST_DELIVERY_MESSAGE,
    fast_fields_refused,
)

_PLAIN_MESSAGE = (
    r"(?!NOQUEUE:)([0-9A-Za-z]{5,32}): to=<([^<>]{0,512})>, (?:orig_to=<([^<>]{0,512})>, )?"
    r"relay=([^ ,<][^ ,]{0,511}), (?:conn_use=[0-9]{1,6}, )?delay=([0-9]{1,10}(?:\.[0-9]{1,9})?), "
    r"delays=([0-9./]{1,64}), dsn=([0-9.]{5,11}), status=([A-Za-z]{1,16})"
    r"(?: \(((?:([2-5][0-5][0-9]) ([245]\.[0-9]{1,3}\.[0-9]{1,3}) )?.*)\))?\Z"
)
PLAIN = re.compile(
    r"([A-Z][a-z]{2} {1,2}[0-9]{1,2} [0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,6})?) "
    r"([^ ]{1,255}) "
    r"(postfix[^ \[\]:/]{0,64}/(?:[^ \[\]:/]{1,64}/)?([a-z]{1,16}))\[[0-9]{1,10}\]: "
    + _PLAIN_MESSAGE,
    re.DOTALL,
)
PLAIN_MESSAGE = re.compile(_PLAIN_MESSAGE, re.DOTALL)

CORPUS = Path(__file__).resolve().parent.parent / "fixtures" / "logs" / "relay-corpus.log"


def _groups(pattern: re.Pattern[str], text: str) -> tuple[str | None, ...] | None:
    found = pattern.match(text)
    return None if found is None else found.groups()


def _fast_groups(pattern: re.Pattern[str], text: str) -> tuple[str | None, ...] | None:
    """A fast regex's groups, as its users take them: a refused match is none."""
    groups = _groups(pattern, text)
    if groups is None:
        return None
    to, orig_to, relay = groups[-10:-7]
    assert to is not None and relay is not None
    return None if fast_fields_refused(to, orig_to, relay) else groups


def _assert_same(line: str) -> bool:
    """Both formulations agree on ``line`` and on its message part; True on a match."""
    expected = _groups(PLAIN, line)
    assert _fast_groups(FAST_DELIVERY, line) == expected, line
    _, separator, message = line.partition("]: ")
    if separator:
        assert _fast_groups(FAST_DELIVERY_MESSAGE, message) == _groups(PLAIN_MESSAGE, message)
    return expected is not None


def test_corpus_lines_match_alike() -> None:
    lines = CORPUS.read_text(encoding="utf-8").splitlines()
    matched = sum(_assert_same(line) for line in lines)
    assert matched > 150  # the corpus's delivery lines of the common shape


_DELIVERY = (
    "Nov 29 10:00:01 mx1 postfix/smtp[123]: 4F3C2A1B9D: to=<a@example.com>, "
    "orig_to=<b@example.org>, relay=mx.example.com[192.0.2.10]:25, conn_use=2, "
    "delay=0.52, delays=0.1/0/0.2/0.22, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as X)"
)
#: The characters the pattern's fields and delimiters are made of, and some others.
_ALPHABET = "<>,= ()[]:/.@-_aZz059\x00\t\u00e9\u2028"


@settings(max_examples=400, deadline=None)
@given(
    edits=st.lists(
        st.tuples(
            st.integers(0, len(_DELIVERY)),
            st.sampled_from(["insert", "delete", "replace"]),
            st.text(st.sampled_from(_ALPHABET), min_size=1, max_size=3),
        ),
        max_size=4,
    )
)
def test_mutated_lines_match_alike(edits: list[tuple[int, str, str]]) -> None:
    line = _DELIVERY
    for position, how, text in edits:
        position = min(position, len(line))
        if how == "insert":
            line = line[:position] + text + line[position:]
        elif how == "delete":
            line = line[:position] + line[position + len(text) :]
        else:
            line = line[:position] + text + line[position + len(text) :]
    _assert_same(line)


_FIELDS = {
    "stamp": (
        "Nov 29 10:00:01",
        "Nov  2 10:00:01.123456",
        "Nov 2 10:00:01.1234567",
        "Nov  29 10:00:01",
        "Nov 29 10:0:01",
        "nov 29 10:00:01",
    ),
    "host": ("mx1", "", "h" * 255, "h" * 256),
    "pid": ("1", "", "1234567890", "12345678901"),
    "program": ("postfix/smtp", "postfix-out/submission/smtp", "postfix/", "postfix//smtp"),
    "queue_id": ("4F3C2A1B9D", "NOQUEUE", "4F3C", "A" * 32, "A" * 33),
    "to": (
        "a@example.com",
        "",
        "a, b@example.com",
        "x" * 512,
        "x" * 513,
        "a<b@example.com",
        "<a@example.com",
        "a b@example.com",
        "a>, orig_to=<b",
    ),
    "orig": (
        "",
        "orig_to=<b@example.org>, ",
        "orig_to=<>, ",
        "orig_to=<" + "x" * 513 + ">, ",
        "orig_to=<a<b@example.org>, ",
        "orig_to=<b@example.org> ",
    ),
    "relay": (
        "mx.example.com[192.0.2.10]:25",
        "none",
        "<x>",
        "r" * 512,
        "r" * 513,
        "mx example.com",
        "mx.example.com ",
        "mx<x",
        "r" * 510 + " r",
        "mx, relay=x",
    ),
    "conn_use": ("", "conn_use=2, ", "conn_use=, ", "conn_use=1234567, "),
    "delay": ("0.52", "1", "1.", "1234567890", "12345678901", "0.123456789", "0.1234567890"),
    "delays": ("0.1/0/0.2/0.22", "", "9" * 64, "9" * 65),
    "dsn": ("5.1.1", "5.1", "5.1.1.1.1.1", "x.1.1"),
    "status": ("sent", "SOFTBOUNCE", "x" * 16, "x" * 17, ""),
    "tail": (
        "",
        " (250 2.0.0 Ok)",
        " (550 5.1.1 <a@b>: no)",
        " ((x))",
        " (699 2.0.0 x)",
        " ()",
        " (550 5.1234.1 x)",
        " (550 5.123.1234 x)",
        " (550 5.1.1)",
        " (550 5.100.100 x)",
    ),
}
_LINE = (
    "{stamp} {host} {program}[{pid}]: {queue_id}: to=<{to}>, {orig}relay={relay}, "
    "{conn_use}delay={delay}, delays={delays}, dsn={dsn}, status={status}{tail}"
)


def _line(changes: dict[str, str]) -> str:
    """A usual line (each field's first value) with ``changes``."""
    return _LINE.format(**({name: values[0] for name, values in _FIELDS.items()} | changes))


def test_lines_with_any_two_fields_changed_match_alike() -> None:
    """Every usual or edge value of every field, alone and with every other field's."""
    changes = [(name, value) for name, values in _FIELDS.items() for value in values[1:]]
    matched = 0
    for i, (name, value) in enumerate(changes):
        matched += _assert_same(_line({name: value}))
        for other, other_value in changes[i + 1 :]:
            if other != name:
                matched += _assert_same(_line({name: value, other: other_value}))
    assert matched > 300


@settings(max_examples=300, deadline=None)
@given(
    noise=st.dictionaries(
        st.sampled_from(sorted(_FIELDS)),
        st.text(st.sampled_from(_ALPHABET), max_size=12),
        min_size=1,
        max_size=2,
    )
)
def test_lines_with_noise_in_fields_match_alike(noise: dict[str, str]) -> None:
    """A usual line with one or two fields replaced by noise made of the delimiters."""
    _assert_same(_line(noise))
