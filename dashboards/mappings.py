"""Grafana value mappings that show the meaning of enhanced status codes and reply codes.

The meanings live in ``dashboards/code-meanings.json`` (IANA "SMTP Enhanced Status
Codes" registry titles, RFC 5321 / RFC 7504 / RFC 4954 reply meanings), refreshed from
the project's registry tables by ``python -m dashboards.build --refresh-meanings``.
"""

from __future__ import annotations

import json
from pathlib import Path

from dashboards.grafana import JSON


def code_mappings(meanings_file: Path) -> tuple[list[JSON], list[JSON]]:
    """Value mappings for enhanced status codes and reply codes.

    :param meanings_file: ``dashboards/code-meanings.json`` (IANA registry titles,
        RFC 5321 / 7504 / 4954 reply meanings).
    :returns: ``(enhanced_mappings, reply_mappings)``. Enhanced codes map with one
        regex per registry detail row (``X.1.1`` matches ``2.1.1``, ``4.1.1``, ``5.1.1``);
        reply codes map by exact value.
    """
    data = json.loads(meanings_file.read_text(encoding="utf-8"))
    enhanced: list[JSON] = [
        {
            "type": "value",
            "options": {
                value: {"text": text, "index": index}
                for index, (value, text) in enumerate(data["special"]["enhanced_status"].items())
            },
        }
    ]
    offset = len(data["special"]["enhanced_status"])
    for index, row in enumerate(data["enhanced_status"], start=offset):
        _, subject, detail = row["code"].split(".")
        enhanced.append(
            {
                "type": "regex",
                "options": {
                    "pattern": rf"^[245]\.{subject}\.{detail}$",
                    "result": {"text": row["title"], "index": index},
                },
            }
        )
    reply_texts = {row["code"]: row["meaning"] for row in data["reply_code"]}
    reply_texts.update(data["special"]["reply_code"])
    reply: list[JSON] = [
        {
            "type": "value",
            "options": {
                code: {"text": text, "index": index}
                for index, (code, text) in enumerate(reply_texts.items())
            },
        }
    ]
    return enhanced, reply
