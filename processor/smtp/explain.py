"""Explain SMTP codes given on the command line: ``bounce-processor explain 5.7.26 550``.

:func:`explain` turns tokens into JSON-ready dictionaries, :func:`format_explanation`
renders them for a terminal, :data:`explain_command` is the click command. Meanings
come from :mod:`processor.smtp.codes` (IANA enhanced status code registry, RFC 3463;
RFC 5321 §4.2 reply codes and their extensions).
"""

from __future__ import annotations

from typing import Any

import click
import orjson

from processor.model import EnhancedStatus, ReplyCode
from processor.sanitize import printable
from processor.smtp import codes

__all__ = ["explain", "explain_command", "format_explanation"]

_MAX_TOKEN_CHARS = 40  # longer tokens are echoed shortened in errors


def explain(tokens: list[str]) -> list[dict[str, Any]]:
    """Explain each token as an enhanced status code, a reply code, or an invalid token.

    :param tokens: e.g. ``["5.7.26", "550", "5.7.606", "999", "abc"]``; surrounding
        whitespace is ignored.
    :returns: one dictionary per token, in order, with ``token`` and ``kind``:

        - ``"enhanced"``: ``code``, ``registered``, ``class``/``subject``/``detail`` (ints),
          ``class_title``, ``subject_title``, ``detail_title``, ``reference``,
          ``reply_codes`` (registry associations), ``duplicate_of``, ``note``;
        - ``"reply"``: ``code`` (int), ``registered``, ``group``, ``category``, ``meaning``,
          ``reference``, ``note``, ``contexts`` (per-command meanings: ``context``,
          ``meaning``, ``reference``, ``enhanced``, ``note``), ``enhanced_associations``;
        - ``"invalid"``: ``error``, a sentence naming the broken rule (RFC 3463 §2 or
          RFC 5321 §4.2.1).

        Values are str, int, bool, None or lists/dicts of them (JSON-ready). Never raises.
    """
    return [_explain_one(token.strip()) for token in tokens]


def _explain_one(token: str) -> dict[str, Any]:
    if len(token) == 3 and token.isascii() and token.isdigit():
        reply = codes.reply_code(int(token))
        if reply is None:
            return _invalid(token, _reply_error(token))
        return _reply_item(token, reply)
    status = codes.enhanced_status(token)
    if status is not None:
        return _enhanced_item(token, status)
    if "." in token:
        return _invalid(token, _enhanced_error(token))
    return _invalid(
        token,
        "not an enhanced status code (class.subject.detail, e.g. 5.1.1) "
        "nor a three-digit reply code (e.g. 550)",
    )


def _invalid(token: str, error: str) -> dict[str, Any]:
    # The token is the user's input, shown back: control characters escaped.
    return {"token": printable(token, _MAX_TOKEN_CHARS), "kind": "invalid", "error": error}


def _enhanced_item(token: str, status: EnhancedStatus) -> dict[str, Any]:
    cls, subject, detail = (int(part) for part in status.code.split("."))
    entry = codes.enhanced_registry_entry(status.code)
    return {
        "token": token,
        "kind": "enhanced",
        "code": status.code,
        "registered": status.registered,
        "class": cls,
        "class_title": status.class_title,
        "subject": subject,
        "subject_title": status.subject_title,
        "detail": detail,
        "detail_title": status.detail_title,
        "reference": status.reference,
        "reply_codes": list(entry.reply_codes) if entry else [],
        "duplicate_of": entry.duplicate_of if entry else None,
        "note": entry.note if entry else None,
    }


def _reply_item(token: str, reply: ReplyCode) -> dict[str, Any]:
    rows = codes.reply_code_entries(reply.code)
    general = next((row for row in rows if row.context is None), None)
    return {
        "token": token,
        "kind": "reply",
        "code": reply.code,
        "registered": reply.registered,
        "group": reply.group,
        "category": codes.reply_category_title(reply.code // 10 % 10),
        "meaning": reply.meaning,
        "reference": reply.reference,
        "note": general.note if general else None,
        "contexts": [
            {
                "context": row.context,
                "meaning": row.meaning,
                "reference": row.reference,
                "enhanced": row.enhanced,
                "note": row.note,
            }
            for row in rows
            if row.context is not None
        ],
        "enhanced_associations": codes.reply_enhanced_associations(reply.code),
    }


def _reply_error(token: str) -> str:
    first, second = int(token[0]), int(token[1])
    if first == 1:
        return (
            "1yz (Positive Preliminary) replies exist only in RFC 821; "
            "RFC 5321 §4.2.1 uses first digits 2 to 5"
        )
    if not 2 <= first <= 5:
        return "not an SMTP reply code: the first digit must be 2 to 5 (RFC 5321 §4.2.1)"
    return f"not an SMTP reply code: second digit {second} is not 0 to 5 (RFC 5321 §4.2.1)"


def _enhanced_error(token: str) -> str:
    shown = token if len(token) <= _MAX_TOKEN_CHARS else token[:_MAX_TOKEN_CHARS] + "..."
    parts = token.split(".")
    if token.startswith(("X.", "x.")):
        return f"{shown} is a registry pattern: give a class, e.g. 5{token[1:]}"
    if len(parts) != 3:
        return "an enhanced status code has three parts, class.subject.detail (RFC 3463 §2)"
    if not all(part.isascii() and part.isdigit() for part in parts):
        return "class, subject and detail must be decimal digits (RFC 3463 §2)"
    if parts[0] not in ("2", "4", "5"):
        return "the class must be 2, 4 or 5 (RFC 3463 §3.1)"
    if any(len(part) > 3 for part in parts[1:]):
        return "subject and detail have at most three digits (RFC 3463 §2)"
    return "subject and detail are written without leading zeros (RFC 3463 §2)"


def format_explanation(items: list[dict[str, Any]]) -> str:
    """Render :func:`explain` output as aligned plain text, one block per token.

    :returns: text without a trailing newline; blocks are separated by a blank line.
    """
    return "\n\n".join(_format_item(item) for item in items)


def _line(label: str, key: str, value: object) -> str:
    return f"    {label:<9} {key:<4} {value}".rstrip()


def _format_item(item: dict[str, Any]) -> str:
    if item["kind"] == "invalid":
        return f"{item['token']}  invalid: {item['error']}"
    if item["kind"] == "enhanced":
        return "\n".join(_format_enhanced(item))
    return "\n".join(_format_reply(item))


def _status_text(item: dict[str, Any], unregistered: str) -> str:
    return f"registered ({item['reference']})" if item["registered"] else unregistered


def _format_enhanced(item: dict[str, Any]) -> list[str]:
    lines = [
        f"{item['code']}  enhanced status code, " + _status_text(item, "not in the IANA registry"),
        _line("class", str(item["class"]), item["class_title"]),
        _line("subject", str(item["subject"]), item["subject_title"] or "(not defined)"),
        _line("detail", str(item["detail"]), item["detail_title"] or "(not registered)"),
    ]
    if item["reply_codes"]:
        lines.append(_line("replies", "", " ".join(item["reply_codes"])))
    if item["note"]:
        lines.append(_line("note", "", item["note"]))
    return lines


def _format_reply(item: dict[str, Any]) -> list[str]:
    code = str(item["code"])
    lines = [
        f"{code}  reply code, " + _status_text(item, "not defined by an RFC"),
        _line("group", f"{code[0]}yz", item["group"]),
        _line("category", f"x{code[1]}z", item["category"]),
    ]
    if item["meaning"]:
        lines.append(_line("meaning", "", item["meaning"]))
    for ctx in item["contexts"]:
        extra = f", {ctx['enhanced']}" if ctx["enhanced"] else ""
        lines.append(_line(ctx["context"], "", f"{ctx['meaning']} ({ctx['reference']}{extra})"))
    if item["note"]:
        lines.append(_line("note", "", item["note"]))
    if not item["registered"] and item["enhanced_associations"]:
        associated = ", ".join(item["enhanced_associations"])
        lines.append(_line("registry", "", f"associated with {associated} (RFC 5248)"))
    return lines


@click.command("explain")
@click.argument("tokens", nargs=-1, required=True, metavar="CODE...")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array instead of text.")
def explain_command(tokens: tuple[str, ...], as_json: bool) -> None:
    """Explain SMTP enhanced status codes (5.7.26) and reply codes (550).

    Exits with status 1 when any CODE is invalid (after printing every explanation).
    """
    items = explain(list(tokens))
    if as_json:
        click.echo(orjson.dumps(items, option=orjson.OPT_INDENT_2).decode())
    else:
        click.echo(format_explanation(items))
    if any(item["kind"] == "invalid" for item in items):
        raise click.exceptions.Exit(1)
