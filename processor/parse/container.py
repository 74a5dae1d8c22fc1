"""Container runtime log lines: the Kubernetes CRI log format and its partial lines.

A node-level log agent that reads ``/var/log/containers/*.log`` without a CRI parser
passes on each line as the runtime wrote it (Kubernetes CRI logging, "Container Runtime
Interface (CRI) logging" design, and the ``LogTagPartial``/``LogTagFull`` constants of
``k8s.io/cri-api``)::

    2026-11-29T10:00:00.123456789Z stdout F Nov 29 10:00:00 mx1 postfix/smtp[1]: ...
    <RFC 3339 time, nanoseconds> <stream> <tags> <content>

- ``stream`` is ``stdout`` or ``stderr``;
- ``tags`` is a ``:``-separated list whose first tag is ``F`` (the content is a full
  line) or ``P`` (partial: the runtime split a line longer than its limit, e.g.
  containerd's ``max_container_log_line_size``, 16 KiB by default, and the rest follows
  on the next lines of the same stream, the last fragment tagged ``F``). The fragments'
  contents join without a separator. Postfix's own logger (``maillog_file``, postlogd)
  caps a record's text at about 2,000 characters, so fragments of Postfix lines are
  rare: a smaller runtime limit, or another writer in between.

A partial fragment alone is refused, never classified: a cut delivery line may have lost
the part of its diagnostic that decides the verdict (or its closing parenthesis, or the
``status=``), and a hard bounce read as something else is worse than a dead letter. The
fragments of one payload are joined (:func:`join_partial_lines`); a fragment whose line
ends in another Kafka message stays alone and the payload is dead-lettered with
:data:`PARTIAL_LINE_MESSAGE` (nothing is lost). Log agents join fragments themselves
with their CRI parser (Fluent Bit ``multiline.parser cri``, Vector ``kubernetes_logs``,
Filebeat's ``container`` parser).

Splitting the content itself is :func:`processor.parse.syslog.split_syslog`'s job.
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = [
    "CONTENT_MESSAGE",
    "CRI_STREAMS",
    "NOT_A_LINE_MESSAGE",
    "PARTIAL_LINE_MESSAGE",
    "CriTags",
    "container_content",
    "cri_tags",
    "has_partial_lines",
    "join_partial_lines",
    "refusal_message",
]

CRI_STREAMS = frozenset({"stdout", "stderr"})
"""The stream names of a CRI log line."""

PARTIAL_LINE_MESSAGE = (
    "container log line is a partial fragment (CRI tag P) whose final fragment (tag F) is "
    "not in the payload: a split line cannot be classified reliably; join partial lines "
    "in the log agent (its CRI parser)"
)
"""Error message of a lone partial fragment."""

NOT_A_LINE_MESSAGE = "not a syslog line, JSON event or log record"
"""Error message of a line with no recognisable shape."""

CONTENT_MESSAGE = (
    "container log line's content is not a syslog line, Exim main log line or JSON document "
    "(or it is the end of a partial line whose start is in another payload)"
)
"""Error message of a full CRI line whose content has no recognisable shape."""

_PARTIAL_MARKERS = (b" stdout P", b" stderr P")


class CriTags(NamedTuple):
    """The CRI tags field: ``partial`` when the first tag is ``P``."""

    partial: bool


def cri_tags(field: str) -> CriTags | None:
    """``"F"`` / ``"P"`` / ``"F:x"`` -> :class:`CriTags`; ``None`` when not a CRI tags field.

    Only the first tag has a defined meaning (``k8s.io/cri-api``: ``P`` partial, ``F``
    full); other tags are ignored as the kubelet does.
    """
    first = field.partition(":")[0]
    if first == "F":
        return CriTags(partial=False)
    if first == "P":
        return CriTags(partial=True)
    return None


class _Fragment(NamedTuple):
    stamp: bytes
    stream: bytes
    partial: bool
    content: bytes


def _fragment(line: bytes) -> _Fragment | None:
    """A CRI line's parts, or ``None`` when ``line`` is not a CRI line."""
    stamp, _, rest = line.partition(b" ")
    if stamp[4:5] != b"-" or not stamp[:4].isdigit():
        return None
    stream, _, rest = rest.partition(b" ")
    if stream not in (b"stdout", b"stderr"):
        return None
    tags, _, content = rest.partition(b" ")
    parsed = cri_tags(tags.decode("ascii", "replace"))
    if parsed is None:
        return None
    return _Fragment(stamp, stream, parsed.partial, content)


def has_partial_lines(payload: bytes) -> bool:
    """True when ``payload`` may hold a CRI partial fragment to join.

    A payload of container log lines starts with a CRI line's time, so a payload that
    does not start with a digit (the common RFC 3164 log) is not scanned at all; else two
    substring scans. A fragment in a payload that starts otherwise stays alone (refused,
    dead-lettered: never lost).
    """
    return payload[:1].isdigit() and any(marker in payload for marker in _PARTIAL_MARKERS)


class _Pending(NamedTuple):
    number: int
    stamp: bytes
    contents: list[bytes]
    originals: list[tuple[int, bytes]]


def join_partial_lines(lines: list[bytes]) -> list[tuple[int, bytes]]:
    """Number ``lines`` (1-based) and join each run of CRI partial fragments to its end.

    A run is the ``P`` fragments of one stream up to the next ``F`` line of that stream
    (``stdout`` and ``stderr`` fragments may interleave). The joined line is
    ``<first fragment's time> <stream> F <contents joined>`` under the first fragment's
    line number: the first fragment's time is the nearest to when the line was written.
    Fragments whose run does not end in ``lines`` are returned unchanged (each is then
    refused with :data:`PARTIAL_LINE_MESSAGE`). Other lines are returned unchanged.

    :returns: (line number, line) pairs in the order of their line numbers.
    """
    pending: dict[bytes, _Pending] = {}
    numbered: list[tuple[int, bytes]] = []
    for number, line in enumerate(lines, 1):
        fragment = _fragment(line.rstrip(b"\r"))
        if fragment is None:
            numbered.append((number, line))
            continue
        run = pending.get(fragment.stream)
        if fragment.partial:
            if run is None:
                run = pending[fragment.stream] = _Pending(number, fragment.stamp, [], [])
            run.contents.append(fragment.content)
            run.originals.append((number, line))
        elif run is None:
            numbered.append((number, line))
        else:
            del pending[fragment.stream]
            content = b"".join([*run.contents, fragment.content])
            numbered.append((run.number, b" ".join((run.stamp, fragment.stream, b"F", content))))
    for run in pending.values():
        numbered.extend(run.originals)
    numbered.sort(key=lambda pair: pair[0])
    return numbered


def container_content(line: str) -> str | None:
    """The line a container runtime's prefix carries, or ``None`` when ``line`` has none.

    ``<RFC 3339 time> stdout|stderr F[:tags] <content>`` (CRI, full line) or ``<RFC 3339
    time> <content>`` (``docker``/``kubectl logs --timestamps``); a CRI partial fragment
    (``P``) or an unknown CRI tag has no content (as in
    :func:`processor.parse.syslog.split_syslog`, which splits a syslog or Exim line
    behind these prefixes; this gives the content of any other shape, JSON).
    """
    stamp, _, rest = line.partition(" ")
    if stamp[4:5] != "-" or stamp[10:11] != "T" or not stamp[:4].isdigit():
        return None
    stream, _, after = rest.partition(" ")
    if stream not in CRI_STREAMS:
        return rest.removeprefix("\ufeff")
    field, _, content = after.partition(" ")
    tags = cri_tags(field)
    return None if tags is None or tags.partial else content.removeprefix("\ufeff")


def refusal_message(line: str) -> str:
    """Why a text line that no prefix matched is refused: a lone CRI partial fragment
    (:data:`PARTIAL_LINE_MESSAGE`), a CRI line whose content is not a log line
    (:data:`CONTENT_MESSAGE`), or no recognisable shape (:data:`NOT_A_LINE_MESSAGE`)."""
    fragment = _fragment(line.encode("utf-8", "replace"))
    if fragment is None:
        return NOT_A_LINE_MESSAGE
    return PARTIAL_LINE_MESSAGE if fragment.partial else CONTENT_MESSAGE
