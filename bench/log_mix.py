"""A production relay's delivery log, generated: the input mix of the throughput benchmarks.

The mix: 78% sent, 10% deferred (connection, greylisting, rate limits, quota),
8% bounced (user unknown, blocked, authentication, mailbox full ...),
2% SOFTBOUNCE/expired, 2% non-delivery noise; recipients, queue IDs and
timestamps all vary, as in a real log (about 20 lines per second of log time).
"""

from __future__ import annotations

import random

import orjson

_DEFERRED = [
    "connect to mx.{d}[192.0.2.20]:25: Connection timed out",
    "host mx.{d}[192.0.2.20] said: 450 4.2.0 <{r}>: Recipient address rejected: Greylisted, see http://postgrey.example.net/help/{d}.html (in reply to RCPT TO command)",
    "host mx.{d}[192.0.2.20] said: 421 4.7.0 [TSS04] Messages from 192.0.2.1 temporarily deferred due to unexpected volume or user complaints (in reply to MAIL FROM command)",
    "host mx.{d}[192.0.2.20] said: 452 4.2.2 <{r}>: Quota exceeded (mailbox for user is full) (in reply to RCPT TO command)",
    "delivery temporarily suspended: lost connection with mx.{d}[192.0.2.20] while receiving the initial server greeting",
]
_BOUNCED = [
    (
        "5.1.1",
        "host mx.{d}[192.0.2.30] said: 550 5.1.1 <{r}>: Recipient address rejected: User unknown in virtual mailbox table (in reply to RCPT TO command)",
    ),
    (
        "5.1.1",
        "host gmail-smtp-in.l.google.example[192.0.2.26] said: 550-5.1.1 The email account that you tried to reach does not exist. Please try 550-5.1.1 double-checking the recipient's email address for typos or 550-5.1.1 unnecessary spaces. For more information, go to 550 5.1.1  https://support.google.com/mail/?p=NoSuchUser {q} - gsmtp (in reply to RCPT TO command)",
    ),
    (
        "5.7.1",
        "host mx.{d}[192.0.2.30] said: 554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.example (in reply to RCPT TO command)",
    ),
    (
        "5.7.26",
        "host gmail-smtp-in.l.google.example[192.0.2.26] said: 550-5.7.26 This mail has been blocked because the sender is unauthenticated. 550 5.7.26 {q} - gsmtp (in reply to end of DATA command)",
    ),
    (
        "5.2.2",
        "host mx.{d}[192.0.2.30] said: 552 5.2.2 <{r}>: Mailbox full (in reply to RCPT TO command)",
    ),
    (
        "5.4.4",
        "Host or domain name not found. Name service error for name={d} type=MX: Host not found",
    ),
]
_NOISE = [
    "{t} mx1 postfix/smtpd[{p}]: connect from client.example.net[198.51.100.7]",
    "{t} mx1 postfix/qmgr[{p}]: {q}: from=<news@example.org>, size=4321, nrcpt=1 (queue active)",
    "{t} mx1 postfix/cleanup[{p}]: {q}: message-id=<{q}@example.org>",
]


def relay_log_lines(count: int, seed: int = 7) -> list[bytes]:
    """Build ``count`` log lines of the documented mix (deterministic for a seed)."""
    rng = random.Random(seed)
    lines: list[bytes] = []
    for i in range(count):
        s = i // 20  # a busy relay logs many lines per second
        t = f"Nov 29 {10 + s // 3600 % 10:02d}:{s // 60 % 60:02d}:{s % 60:02d}"
        q = f"{rng.getrandbits(40):010X}"
        d = rng.choice(("example.com", "example.net", "example.org"))
        r = f"user{rng.randrange(10**6)}@{d}"
        head = f"{t} mx1 postfix/smtp[{1000 + i % 97}]: {q}: to=<{r}>, relay=mx.{d}[192.0.2.20]:25, delay=0.52, delays=0.1/0/0.2/0.22"
        roll = rng.random()
        if roll < 0.78:
            line = f"{head}, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as {q[::-1]})"
        elif roll < 0.88:
            line = f"{head}, dsn=4.4.1, status=deferred ({rng.choice(_DEFERRED).format(d=d, r=r)})"
        elif roll < 0.96:
            dsn, text = rng.choice(_BOUNCED)
            line = f"{head}, dsn={dsn}, status=bounced ({text.format(d=d, r=r, q=q.lower())})"
        elif roll < 0.98:
            line = f"{head}, dsn=4.1.1, status=SOFTBOUNCE (host mx.{d}[192.0.2.30] said: 550 5.1.1 <{r}>: User unknown (in reply to RCPT TO command))"
        else:
            line = rng.choice(_NOISE).format(t=t, p=i % 97, q=q)
        lines.append(line.encode())
    return lines


#: How the same log reaches the processor: plain RFC 3164 lines (rsyslog, Postfix's own
#: maillog_file), a Fluent Bit record (Kubernetes: a node agent tailing the pod's log), a
#: raw CRI container log line, or RFC 5424 (rsyslog/syslog-ng forwarding).
SHAPES = ("rfc3164", "fluent-bit", "cri", "rfc5424")


def shaped(lines: list[bytes], shape: str) -> list[bytes]:
    """``lines`` (RFC 3164) as they arrive in ``shape`` (one of :data:`SHAPES`)."""
    if shape == "rfc3164":
        return lines
    out = []
    for line in lines:
        if shape == "fluent-bit":
            out.append(b'{"date":1796032801.25,"stream":"stdout","log":' + _json_text(line) + b"}")
        elif shape == "cri":
            out.append(b"2026-11-29T10:00:01.123456789Z stdout F " + line)
        else:  # rfc5424: <PRI>1 TIMESTAMP HOST APP PROCID MSGID SD MSG
            host, _, rest = line[16:].partition(b" ")
            tag, _, message = rest.partition(b": ")
            app, _, pid = tag.rstrip(b"]").partition(b"[")
            head = b"<22>1 2026-11-29T10:00:01.123456+00:00 " + host + b" " + app + b" "
            out.append(head + (pid or b"-") + b" - - " + message)
    return out


def _json_text(line: bytes) -> bytes:
    """``line`` as a JSON string (the log agent's escaping)."""
    return orjson.dumps(line.decode("utf-8", "replace") + "\n")
