"""Accuracy of bounce-email classification on a labelled corpus (the Sisimai test set).

Usage::

    PYTHONPATH=. python bench/accuracy.py CORPUS_DIR [--family NAME] [--quiet]

``CORPUS_DIR`` holds ``labels.jsonl`` (one object per email: ``file``,
``mta_module``, ``expect`` = one entry per recipient with ``status``,
``reply``, ``reason``, ``hard``) and the emails. Every email is run through
the real :func:`processor.enrich.enrich_payload`; the n-th record is compared
with the n-th expected recipient (the labels list recipients in the order the
email does).

Printed per MTA family (``mta_module``) and overall:

- recipients found: expected recipients that got a record;
- enhanced status agreement: over expectations with a real code (Sisimai's own
  pseudo codes ``X.0.9xx`` and empty statuses are not compared);
- reply code agreement: over expectations with a reply code;
- hard/soft agreement: ``verdict == hard`` against ``hard``, excluding the three
  documented policy differences (counted separately);
- reason agreement: Sisimai's reason mapped to ours with :data:`REASON_MAP`.

Then every disagreement: file, recipient index, expected, got, rule id.
See ``docs/accuracy.md`` for the mapping's rationale and the results.
"""

from __future__ import annotations

import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import click
import orjson

from processor.enrich import enrich_payload
from processor.errors import PayloadError
from processor.model import DeliveryStatus, EnrichedRecord, Verdict

REASON_MAP: dict[str, frozenset[str]] = {
    "userunknown": frozenset({"user_unknown"}),
    "hostunknown": frozenset({"host_unknown"}),
    "notaccept": frozenset({"host_unknown"}),
    "hasmoved": frozenset({"has_moved"}),
    "suspend": frozenset({"mailbox_disabled"}),
    "mailboxfull": frozenset({"mailbox_full"}),
    "exceedlimit": frozenset({"message_too_large"}),
    "mesgtoobig": frozenset({"message_too_large"}),
    "spamdetected": frozenset({"content_rejected"}),
    "virusdetected": frozenset({"content_rejected"}),
    "contenterror": frozenset({"content_rejected"}),
    "notcompliantrfc": frozenset({"content_rejected"}),
    "filtered": frozenset({"policy_rejected", "content_rejected"}),
    "blocked": frozenset({"blocked"}),
    "badreputation": frozenset({"blocked"}),
    "requireptr": frozenset({"blocked"}),
    "policyviolation": frozenset({"policy_rejected"}),
    "securityerror": frozenset({"policy_rejected"}),
    "norelaying": frozenset({"policy_rejected"}),
    "rejected": frozenset({"sender_rejected"}),
    "authfailure": frozenset({"auth_failed"}),
    "speeding": frozenset({"rate_limited"}),
    "toomanyconn": frozenset({"rate_limited"}),
    "networkerror": frozenset({"network_error"}),
    "systemerror": frozenset({"remote_system_error"}),
    "systemfull": frozenset({"remote_system_error"}),
    "mailererror": frozenset({"remote_system_error"}),
    "syntaxerror": frozenset({"protocol_error"}),
    "expired": frozenset({"expired"}),
    "delivered": frozenset({"delivered"}),
    "feedback": frozenset({"complaint"}),
    "vacation": frozenset({"auto_reply"}),
    "onhold": frozenset({"undetermined"}),
    "undefined": frozenset({"undetermined"}),
}
"""Sisimai 5.1 reason -> the reason(s) of ours that mean the same (docs/accuracy.md)."""

POLICY_DIFFERENCES = {
    "transient_user_unknown": "4xx user unknown: Sisimai hard, ours soft (RFC 3463 class 4 is transient)",
    "disabled_mailbox": "disabled mailbox: Sisimai soft (suspend), ours hard (mailbox_disabled)",
    "undetermined_permanent": "5xx with no recognisable reason: Sisimai soft, ours hard (undetermined)",
}
DISPUTES = {
    "filtered_user_unknown": "Sisimai 'filtered'/'rejected' for a reply that says the mailbox does not "
    "exist (after DATA, or X.2.0/X.2.1): ours user_unknown, hard",
    "expired_cause_named": "Sisimai 'expired' where the MTA gave up and the last error names a cause: "
    "ours names the cause (policy, issue 5); the rule id (and delivery_status) keeps 'expired'",
    "delay_notice": "Sisimai 'expired' or hard for a delay notice (Action: delayed, 'will be "
    "retried'): the MTA is still trying (RFC 3464 §2.3.3); ours deferred, soft, with the cause",
}
"""Label disputes documented in docs/accuracy.md; reported beside the headline figures."""

REFERENCE_TIME = 1_800_000_000.0  # fixed, so year-less dates resolve the same way on every run


@dataclass
class Tally:
    """Counts for one family (or overall)."""

    expected: int = 0
    found: int = 0
    status_total: int = 0
    status_agree: int = 0
    reply_total: int = 0
    reply_agree: int = 0
    hard_total: int = 0
    hard_agree: int = 0
    reason_total: int = 0
    reason_agree: int = 0
    policy: Counter[str] = field(default_factory=Counter)
    disputes: Counter[str] = field(default_factory=Counter)
    undisputed_hard_total: int = 0
    undisputed_hard_agree: int = 0
    undisputed_reason_total: int = 0
    undisputed_reason_agree: int = 0

    def add(self, other: Tally) -> None:
        """Add ``other``'s counts to these."""
        for name, value in vars(other).items():
            if isinstance(value, Counter):
                getattr(self, name).update(value)
            else:
                setattr(self, name, getattr(self, name) + value)


def _pseudo(status: str) -> bool:
    parts = status.split(".")
    return len(parts) != 3 or (len(parts[2]) == 3 and parts[2].startswith("9"))


def policy_difference(expect: dict[str, object], record: EnrichedRecord) -> str | None:
    """Which documented policy difference explains a hard/soft disagreement, if any."""
    reason = str(expect["reason"])
    code_class = (str(expect["status"]) or str(expect["reply"]) or " ")[0]
    ours_hard = record.verdict is Verdict.HARD
    if expect["hard"] and not ours_hard and reason == "userunknown" and code_class == "4":
        return "transient_user_unknown"
    if (
        not expect["hard"]
        and ours_hard
        and reason == "suspend"
        and record.reason.value == "mailbox_disabled"
    ):
        return "disabled_mailbox"
    if not expect["hard"] and ours_hard and record.reason.value == "undetermined":
        return "undetermined_permanent"
    return None


def dispute(expect: dict[str, object], record: EnrichedRecord) -> str | None:
    """Which documented label dispute (:data:`DISPUTES`) a disagreement falls under, if any."""
    if expect["reason"] in ("filtered", "rejected") and record.reason.value == "user_unknown":
        return "filtered_user_unknown"
    if record.delivery_status is DeliveryStatus.DEFERRED and (
        expect["reason"] == "expired" or expect["hard"]
    ):
        return "delay_notice"
    if (
        expect["reason"] == "expired"
        and record.reason.value != "expired"
        and "+" in record.rule_id  # "status.expired+text.network_error.connection"
    ):
        return "expired_cause_named"
    return None


def _describe(expect: dict[str, object]) -> str:
    return f"{expect['status'] or '-'}/{expect['reply'] or '-'} {expect['reason']} {'hard' if expect['hard'] else 'soft'}"


def _got(record: EnrichedRecord) -> str:
    status = record.enhanced_status.code if record.enhanced_status else "-"
    reply = record.reply_code.code if record.reply_code else "-"
    return f"{status}/{reply} {record.reason.value} {record.verdict.value}"


def compare(expect: dict[str, object], record: EnrichedRecord | None, tally: Tally) -> list[str]:
    """Add one expectation to ``tally``; return the names of the metrics that disagree."""
    tally.expected += 1
    if record is None:
        return ["missing"]
    tally.found += 1
    wrong = []
    status = str(expect["status"])
    if status and not _pseudo(status):
        tally.status_total += 1
        if record.enhanced_status is not None and record.enhanced_status.code == status:
            tally.status_agree += 1
        else:
            wrong.append("status")
    if expect["reply"]:
        tally.reply_total += 1
        if record.reply_code is not None and str(record.reply_code.code) == expect["reply"]:
            tally.reply_agree += 1
        else:
            wrong.append("reply")
    disputed = dispute(expect, record)
    difference = policy_difference(expect, record)
    if difference is not None:
        tally.policy[difference] += 1
    else:
        hard_agrees = (record.verdict is Verdict.HARD) == bool(expect["hard"])
        tally.hard_total += 1
        tally.hard_agree += hard_agrees
        if not hard_agrees:
            wrong.append("hard")
        if hard_agrees or disputed is None:
            tally.undisputed_hard_total += 1
            tally.undisputed_hard_agree += hard_agrees
    reason_agrees = record.reason.value in REASON_MAP.get(str(expect["reason"]), frozenset())
    tally.reason_total += 1
    tally.reason_agree += reason_agrees
    if not reason_agrees:
        wrong.append("reason")
    if reason_agrees or disputed is None:
        tally.undisputed_reason_total += 1
        tally.undisputed_reason_agree += reason_agrees
    if disputed is not None and ("hard" in wrong or "reason" in wrong):
        tally.disputes[disputed] += 1
    return wrong


def _share(agree: int, total: int) -> str:
    return f"{agree / total:6.1%} ({agree}/{total})" if total else "     -"


def render(name: str, tally: Tally) -> str:
    """One table row."""
    policy = sum(tally.policy.values())
    return (
        f"{name:<16} {_share(tally.found, tally.expected):>18} {_share(tally.status_agree, tally.status_total):>18} "
        f"{_share(tally.reply_agree, tally.reply_total):>18} {_share(tally.hard_agree, tally.hard_total):>18} "
        f"{_share(tally.reason_agree, tally.reason_total):>18} {policy:>6}"
    )


def run(
    corpus: Path, family: str | None
) -> tuple[dict[str, Tally], list[str], float, int, Counter[str]]:
    """Evaluate every labelled email; returns tallies per family, disagreement lines, seconds, emails."""
    tallies: dict[str, Tally] = defaultdict(Tally)
    disagreements: list[str] = []
    confusion: Counter[str] = Counter()
    elapsed = 0.0
    emails = 0
    for line in (corpus / "labels.jsonl").read_bytes().splitlines():
        label = orjson.loads(line)
        if family and label["mta_module"].lower() != family.lower():
            continue
        raw = (corpus / label["file"]).read_bytes()
        started = time.perf_counter()
        try:
            result = enrich_payload(raw, reference_time=REFERENCE_TIME)
            records, errors = (
                result.records,
                [f"{e.error_class}: {e.message}" for e in result.errors],
            )
        except PayloadError as error:
            records, errors = [], [f"{error.error_class}: {error}"]
        elapsed += time.perf_counter() - started
        emails += 1
        tally = tallies[label["mta_module"]]
        for index, expect in enumerate(label["expect"]):
            record = records[index] if index < len(records) else None
            wrong = compare(expect, record, tally)
            if "reason" in wrong and record is not None:
                confusion[f"{expect['reason']} -> {record.reason.value}"] += 1
            if wrong:
                got = _got(record) if record else ("; ".join(errors) or "no record")[:160]
                rule = record.rule_id if record else "-"
                disagreements.append(
                    f"{label['file'].rsplit('/', 1)[-1]}#{index} [{','.join(wrong)}] "
                    f"expected {_describe(expect)} | got {got} | rule {rule}"
                )
    return tallies, disagreements, elapsed, emails, confusion


@click.command()
@click.argument("corpus_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--family", help="Only this mta_module (e.g. Postfix).")
@click.option("--quiet", is_flag=True, help="Do not list the disagreements.")
def main(corpus_dir: Path, family: str | None, quiet: bool) -> None:
    """Print accuracy per MTA family and overall, then the disagreements."""
    tallies, disagreements, elapsed, emails, confusion = run(corpus_dir, family)
    header = f"{'family':<16} {'recipients':>18} {'enhanced status':>18} {'reply code':>18} {'hard/soft':>18} {'reason':>18} {'policy':>6}"
    print(header)
    overall = Tally()
    for name in sorted(tallies, key=lambda n: (-tallies[n].expected, n)):
        print(render(name, tallies[name]))
        overall.add(tallies[name])
    print(render("OVERALL", overall))
    print("\nDocumented policy differences (excluded from hard/soft):")
    for key, words in POLICY_DIFFERENCES.items():
        print(f"  {overall.policy[key]:>4}  {words}")
    print("\nDocumented label disputes (counted in the table above; docs/accuracy.md):")
    for key, words in DISPUTES.items():
        print(f"  {overall.disputes[key]:>4}  {words}")
    print(
        "  excluding them too: hard/soft "
        f"{_share(overall.undisputed_hard_agree, overall.undisputed_hard_total).strip()}, "
        f"reason {_share(overall.undisputed_reason_agree, overall.undisputed_reason_total).strip()}"
    )
    print(
        f"\n{emails} emails in {elapsed:.2f} s ({elapsed / max(emails, 1) * 1000:.2f} ms per email)"
    )
    print("\nReason disagreements by kind (Sisimai -> ours):")
    for pair, count in confusion.most_common():
        print(f"  {count:>4}  {pair}")
    if not quiet:
        print(f"\nDisagreements ({len(disagreements)}):")
        for line in disagreements:
            print("  " + line)


if __name__ == "__main__":
    sys.exit(main())
