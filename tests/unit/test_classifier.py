"""Classifier: every text rule's example, code tables, policy order of evidence, site policies."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from processor.classifier import classify_event
from processor.classifier.policy import default_policy, load_policy
from processor.classifier.rules import builtin_text_rules, code_tables, hard_reasons
from processor.errors import PolicyError
from processor.model import Action, DeliveryEvent, DeliveryStatus, Reason, Verdict
from processor.smtp.codes import (
    expand_enhanced_pattern,
    registered_enhanced_codes,
    registered_reply_codes,
)

RULES = builtin_text_rules()


def _event(
    diagnostic: str | None, status: DeliveryStatus = DeliveryStatus.BOUNCED, **fields: object
) -> DeliveryEvent:
    return DeliveryEvent(
        "postfix", status, recipient="a@example.com", diagnostic=diagnostic, **fields
    )  # type: ignore[arg-type]


@pytest.mark.parametrize("rule", RULES, ids=[r.rule_id for r in RULES])
def test_each_text_rule_classifies_its_own_example(rule: object) -> None:
    assert rule.example, f"{rule.rule_id} has no example"  # type: ignore[attr-defined]
    status = DeliveryStatus.DEFERRED if rule.classes == {4} else DeliveryStatus.BOUNCED  # type: ignore[attr-defined]
    _, decision = classify_event(_event(rule.example, status))  # type: ignore[attr-defined]
    if rule.reason is Reason.EXPIRED:  # type: ignore[attr-defined]
        # An expiry rule says the MTA gave up; the reason is the last error's cause when
        # the text names one, and the rule id names both ("text.<expiry>+text.<cause>").
        expiry, _, cause = decision.rule_id.partition("+")
        assert expiry == f"text.{rule.rule_id}"  # type: ignore[attr-defined]
        assert (decision.reason is Reason.EXPIRED) == (cause == "")
        assert decision.verdict is Verdict.SOFT
        return
    assert decision.rule_id == f"text.{rule.rule_id}"  # type: ignore[attr-defined]
    assert decision.reason is rule.reason  # type: ignore[attr-defined]


def test_patterns_have_no_doubled_backslashes() -> None:
    # TOML literal strings ('...') take backslashes as they are: '\\b' would be a
    # literal backslash followed by "b", not a word boundary.
    for rule in RULES:
        for pattern in rule.patterns:
            assert "\\\\" not in pattern, f"{rule.rule_id}: {pattern!r}"


def test_provider_rules_cite_documentation() -> None:
    for rule in RULES:
        if rule.provider:
            assert rule.doc and rule.doc.startswith("https://"), rule.rule_id


def test_code_tables_cover_every_registered_code_and_rfc_reply() -> None:
    tables = code_tables()
    for pattern in registered_enhanced_codes():
        assert pattern[2:] in tables.enhanced, pattern
    for reply in registered_reply_codes():
        if reply >= 400 and reply not in (
            458,
            459,
            453,
        ):  # ETRN/ATRN replies never answer a delivery
            assert reply in tables.reply, reply
    assert {"X.1.1", "X.2.2"} <= {p for p in registered_enhanced_codes()}
    assert expand_enhanced_pattern("X.1.1") == ["2.1.1", "4.1.1", "5.1.1"]


def test_hard_reasons_are_the_documented_set() -> None:
    assert hard_reasons() == {
        Reason.USER_UNKNOWN,
        Reason.HOST_UNKNOWN,
        Reason.ADDRESS_INVALID,
        Reason.MAILBOX_DISABLED,
        Reason.HAS_MOVED,
        Reason.SUPPRESSED,
        Reason.UNDETERMINED,
    }


@pytest.mark.parametrize(
    ("diagnostic", "status", "reason", "verdict", "rule_id"),
    [
        # The MTA's outcome comes first.
        (
            "host x[192.0.2.1] said: 550 5.1.1 <a@example.com>: User unknown",
            DeliveryStatus.SOFTBOUNCE,
            Reason.USER_UNKNOWN,
            Verdict.SOFT,
            "text.user_unknown.no_such_user",
        ),
        (
            "host x[192.0.2.1] said: 550 5.1.1 unknown",
            DeliveryStatus.DEFERRED,
            Reason.USER_UNKNOWN,
            Verdict.SOFT,
            "enhanced.X.1.1",
        ),
        (
            "250 2.0.0 Ok: queued as ABC",
            DeliveryStatus.SENT,
            Reason.DELIVERED,
            Verdict.SUCCESS,
            "status.delivered",
        ),
        (
            "example.com",
            DeliveryStatus.DISCARDED,
            Reason.DISCARDED,
            Verdict.SUCCESS,
            "status.discarded",
        ),
        (
            "returned to sender",
            DeliveryStatus.EXPIRED,
            Reason.EXPIRED,
            Verdict.SOFT,
            "status.expired",
        ),
        # The MTA gave up: the reason names the last error's cause, the verdict stays soft.
        (
            "host x[192.0.2.1] said: 452 4.2.2 <a@example.com>: Mailbox full",
            DeliveryStatus.EXPIRED,
            Reason.MAILBOX_FULL,
            Verdict.SOFT,
            "status.expired+text.mailbox_full.quota",
        ),
        (
            "host x[192.0.2.1] said: 421 4.4.2 no",
            DeliveryStatus.EXPIRED,
            Reason.NETWORK_ERROR,
            Verdict.SOFT,
            "status.expired+enhanced.X.4.2",
        ),
        (
            "message expired after 5 days; last error: 550 5.5.0 mailbox unavailable",
            DeliveryStatus.BOUNCED,
            Reason.USER_UNKNOWN,
            Verdict.SOFT,
            "text.expired.queue_lifetime+text.user_unknown.mailbox_unavailable",
        ),
        # Specific text beats a generic or contradicting code.
        (
            "host x said: 550 5.1.1 <a@example.com>: you have exceeded your sending rate",
            DeliveryStatus.BOUNCED,
            Reason.RATE_LIMITED,
            Verdict.SOFT,
            "text.rate_limited.rate",
        ),
        (
            "host x said: 552 5.2.2 <a@example.com>: this mailbox does not exist",
            DeliveryStatus.BOUNCED,
            Reason.USER_UNKNOWN,
            Verdict.HARD,
            "text.user_unknown.no_such_user",
        ),
        # Codes decide when the text says nothing specific.
        (
            "host x said: 550 5.1.1 no",
            DeliveryStatus.BOUNCED,
            Reason.USER_UNKNOWN,
            Verdict.HARD,
            "enhanced.X.1.1",
        ),
        (
            "host x said: 552 5.2.2 no",
            DeliveryStatus.BOUNCED,
            Reason.MAILBOX_FULL,
            Verdict.SOFT,
            "enhanced.X.2.2",
        ),
        (
            "host x said: 550 5.2.1 no",
            DeliveryStatus.BOUNCED,
            Reason.MAILBOX_DISABLED,
            Verdict.HARD,
            "enhanced.X.2.1",
        ),
        (
            "host x said: 550 5.4.4 no",
            DeliveryStatus.BOUNCED,
            Reason.HOST_UNKNOWN,
            Verdict.HARD,
            "enhanced.X.4.4",
        ),
        (
            "host x said: 450 4.4.4 no",
            DeliveryStatus.DEFERRED,
            Reason.NETWORK_ERROR,
            Verdict.SOFT,
            "enhanced.X.4.4",
        ),
        (
            "host x said: 550 5.7.26 no",
            DeliveryStatus.BOUNCED,
            Reason.AUTH_FAILED,
            Verdict.SOFT,
            "enhanced.X.7.26",
        ),
        (
            "host x said: 556 5.1.10 no",
            DeliveryStatus.BOUNCED,
            Reason.HOST_UNKNOWN,
            Verdict.HARD,
            "enhanced.X.1.10",
        ),
        (
            "host x said: 421 4.7.28 no",
            DeliveryStatus.DEFERRED,
            Reason.RATE_LIMITED,
            Verdict.SOFT,
            "enhanced.X.7.28",
        ),
        # Unregistered codes: class and subject.
        (
            "host x said: 550 5.7.999 no",
            DeliveryStatus.BOUNCED,
            Reason.POLICY_REJECTED,
            Verdict.SOFT,
            "enhanced.X.7.unregistered",
        ),
        (
            "host x said: 550 5.1.90 no",
            DeliveryStatus.BOUNCED,
            Reason.UNDETERMINED,
            Verdict.HARD,
            "enhanced.X.1.unregistered",
        ),
        # Generic X.0.0 lets the reply code speak.
        (
            "host x said: 552 5.0.0 no",
            DeliveryStatus.BOUNCED,
            Reason.MAILBOX_FULL,
            Verdict.SOFT,
            "reply.552",
        ),
        (
            "host x said: 551 no",
            DeliveryStatus.BOUNCED,
            Reason.HAS_MOVED,
            Verdict.HARD,
            "reply.551",
        ),
        (
            "host x said: 554 no",
            DeliveryStatus.BOUNCED,
            Reason.UNDETERMINED,
            Verdict.HARD,
            "reply.554",
        ),
        # The sending side found no route: about the path, not the recipient address.
        (
            "Routing: Could not find a gateway for a@example.com",
            DeliveryStatus.BOUNCED,
            Reason.NETWORK_ERROR,
            Verdict.SOFT,
            "text.network_error.connection",
        ),
        ("nothing useful", DeliveryStatus.BOUNCED, Reason.UNDETERMINED, Verdict.HARD, "none"),
        ("nothing useful", DeliveryStatus.DEFERRED, Reason.UNDETERMINED, Verdict.SOFT, "none"),
    ],
)
def test_order_of_evidence(
    diagnostic: str, status: DeliveryStatus, reason: Reason, verdict: Verdict, rule_id: str
) -> None:
    _, decision = classify_event(_event(diagnostic, status))
    assert (decision.reason, decision.verdict, decision.rule_id) == (reason, verdict, rule_id)
    expected_action = {Verdict.HARD: Action.SUPPRESS, Verdict.SOFT: Action.RETRY}.get(
        verdict, Action.NONE
    )
    assert decision.action is expected_action


@pytest.mark.parametrize(
    ("diagnostic", "status", "reason", "verdict", "rule_id"),
    [
        # RFC 5321 §3.3: at MAIL FROM no recipient has been named yet.
        ("host mx.example.net[192.0.2.20] said: 553 5.1.0 bounce.example.org does not exist "
         "E2110 (in reply to MAIL FROM command)",
         DeliveryStatus.BOUNCED, Reason.SENDER_REJECTED, Verdict.SOFT, "command.mail_from"),
        ("host mx.example.net[192.0.2.20] said: 550 5.1.1 User unknown "
         "(in reply to MAIL FROM command)",
         DeliveryStatus.BOUNCED, Reason.SENDER_REJECTED, Verdict.SOFT, "command.mail_from"),
        ("host mx.example.net[192.0.2.20] said: 550 Go away (in reply to MAIL FROM command)",
         DeliveryStatus.BOUNCED, Reason.SENDER_REJECTED, Verdict.SOFT, "command.mail_from"),
        # EHLO/HELO: about the connecting host
        ("host mx.example.net[192.0.2.20] said: 550 5.0.0 Not welcome (in reply to EHLO command)",
         DeliveryStatus.BOUNCED, Reason.BLOCKED, Verdict.SOFT, "command.ehlo"),
        ("host mx.example.net[192.0.2.20] said: 554 Host unknown (in reply to HELO command)",
         DeliveryStatus.BOUNCED, Reason.BLOCKED, Verdict.SOFT, "command.helo"),
        # reasons already about the sender, host or policy stay as the evidence says
        ("host mx.example.net[192.0.2.20] said: 554 5.7.1 Message rejected due to local policy "
         "(in reply to MAIL FROM command)",
         DeliveryStatus.BOUNCED, Reason.POLICY_REJECTED, Verdict.SOFT, "text.policy_rejected.generic"),
        # transient: soft anyway, and the reason is about the sender too
        ("host mx.example.net[192.0.2.20] said: 450 4.1.1 User unknown "
         "(in reply to MAIL FROM command)",
         DeliveryStatus.DEFERRED, Reason.SENDER_REJECTED, Verdict.SOFT, "command.mail_from"),
        # the same replies at RCPT TO are about the recipient
        ("host mx.example.net[192.0.2.20] said: 550 5.1.1 User unknown "
         "(in reply to RCPT TO command)",
         DeliveryStatus.BOUNCED, Reason.USER_UNKNOWN, Verdict.HARD, "text.user_unknown.no_such_user"),
        ("host mx.example.net[192.0.2.20] said: 550 Go away (in reply to RCPT TO command)",
         DeliveryStatus.BOUNCED, Reason.UNDETERMINED, Verdict.HARD, "reply.550"),
    ],
)  # fmt: skip
def test_refusal_before_any_recipient_is_not_about_the_recipient(
    diagnostic: str, status: DeliveryStatus, reason: Reason, verdict: Verdict, rule_id: str
) -> None:
    _, decision = classify_event(_event(diagnostic, status))
    assert (decision.reason, decision.verdict, decision.rule_id) == (reason, verdict, rule_id)
    if rule_id.startswith("command."):
        assert "before any recipient was named" in decision.explanation


def test_command_from_the_event_field_counts_and_is_part_of_the_cache_key() -> None:
    text = "host mx.example.net[192.0.2.20] said: 550 5.1.1 User unknown"
    _, plain = classify_event(_event(text))
    _, at_mail = classify_event(_event(text, smtp_command="MAIL FROM"))
    _, again = classify_event(_event(text))
    assert (plain.reason, plain.verdict) == (Reason.USER_UNKNOWN, Verdict.HARD)
    assert (at_mail.reason, at_mail.verdict) == (Reason.SENDER_REJECTED, Verdict.SOFT)
    assert again == plain


def test_reply_decides_the_class_when_the_enhanced_code_contradicts_it() -> None:
    # RFC 2034 §3: the enhanced class must match the reply; without an MTA status the reply wins.
    evidence, decision = classify_event(_event("550 4.2.2 mailbox full", DeliveryStatus.UNKNOWN))
    assert evidence.conflict and evidence.failure_class == 5
    assert (decision.reason, decision.verdict) == (Reason.MAILBOX_FULL, Verdict.SOFT)
    assert "contradicts reply 550" in decision.explanation
    evidence, decision = classify_event(_event("450 5.1.1 user unknown", DeliveryStatus.UNKNOWN))
    assert evidence.failure_class == 4
    assert (decision.reason, decision.verdict) == (Reason.USER_UNKNOWN, Verdict.SOFT)


def test_nothing_to_go_on_is_unknown() -> None:
    _, decision = classify_event(
        DeliveryEvent("json", DeliveryStatus.UNKNOWN, recipient="a@example.com")
    )
    assert (decision.verdict, decision.action, decision.reason) == (
        Verdict.UNKNOWN,
        Action.NONE,
        Reason.UNDETERMINED,
    )


def test_mta_dsn_differing_from_the_text_is_explained() -> None:
    evidence, decision = classify_event(
        _event("host x said: 550 5.1.1 User unknown", DeliveryStatus.SOFTBOUNCE, mta_dsn="4.1.1")
    )
    assert (evidence.enhanced_code, evidence.enhanced_source, evidence.mta_dsn) == (
        "5.1.1",
        "diagnostic",
        "4.1.1",
    )
    assert "MTA dsn=4.1.1 differs from the remote's 5.1.1" in decision.explanation
    evidence, _ = classify_event(
        _event("host x said: 550 Mailbox unavailable", DeliveryStatus.BOUNCED, mta_dsn="5.0.0")
    )
    assert (evidence.enhanced_code, evidence.enhanced_source, evidence.reply_code) == (
        "5.0.0",
        "mta",
        550,
    )


def test_class_profile(tmp_path: Path) -> None:
    policy = load_policy("class")
    _, decision = classify_event(_event("host x said: 552 5.2.2 mailbox full"), policy)
    assert (decision.reason, decision.verdict) == (Reason.MAILBOX_FULL, Verdict.HARD)
    _, decision = classify_event(
        _event("host x said: 452 4.1.1 unknown", DeliveryStatus.DEFERRED), policy
    )
    assert decision.verdict is Verdict.SOFT


def test_site_policy_toml_overrides_verdicts_and_adds_rules(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    path.write_text(
        'profile = "default"\n[verdicts]\nmailbox_disabled = "soft"\nmailbox_full = "hard"\n'
        '[[text_rules]]\nid = "site.closed"\nreason = "mailbox_disabled"\n'
        'patterns = ["account closed by owner"]\nclasses = [5]\n'
    )
    policy = load_policy(path)
    _, decision = classify_event(_event("host x said: 550 5.1.1 account closed by owner"), policy)
    assert (decision.reason, decision.verdict, decision.rule_id) == (
        Reason.MAILBOX_DISABLED,
        Verdict.SOFT,
        "text.site.closed",
    )
    _, decision = classify_event(_event("host x said: 552 5.2.2 mailbox full"), policy)
    assert decision.verdict is Verdict.HARD
    _, decision = classify_event(_event("host x said: 552 5.2.2 mailbox full"), default_policy())
    assert decision.verdict is Verdict.SOFT


@pytest.mark.parametrize(
    ("diagnostic", "verdict", "rule_id"),
    [
        # RFC 3463 X.2.1: only temporarily disabled -> transient, whatever the 5yz says
        ("host mx.example.net[192.0.2.20] said: 550 5.7.1 <bob@example.net>: Recipient address "
         "rejected: User bob@example.net temporary locked. Please try again later!",
         Verdict.SOFT, "text.mailbox_disabled.temporarily"),
        ("host mx.example.net[192.0.2.20] said: 550 5.2.1 This account is temporarily suspended",
         Verdict.SOFT, "text.mailbox_disabled.temporarily"),
        # no word saying it is temporary: a disabled mailbox is hard
        ("host mx.example.net[192.0.2.20] said: 550 5.2.1 <bob@example.net>: Mailbox disabled",
         Verdict.HARD, "text.mailbox_disabled.disabled"),
    ],
)  # fmt: skip
def test_temporarily_disabled_mailbox_is_soft(
    diagnostic: str, verdict: Verdict, rule_id: str
) -> None:
    _, decision = classify_event(_event(diagnostic))
    assert (decision.reason, decision.verdict, decision.rule_id) == (
        Reason.MAILBOX_DISABLED, verdict, rule_id,
    )  # fmt: skip
    _, by_class = classify_event(_event(diagnostic), load_policy("class"))
    assert by_class.verdict is Verdict.HARD  # the class profile looks at the class only


def test_site_rule_may_say_its_wording_is_transient(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    path.write_text(
        '[[text_rules]]\nid = "site.on_leave"\nreason = "mailbox_disabled"\n'
        'patterns = ["mailbox paused until"]\ntransient = true\n'
    )
    _, decision = classify_event(
        _event("host x said: 550 5.2.1 mailbox paused until 2027-01-04"), load_policy(path)
    )
    assert (decision.reason, decision.verdict) == (Reason.MAILBOX_DISABLED, Verdict.SOFT)
    assert "temporary" in decision.explanation


def test_site_policy_yaml(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text("verdicts:\n  undetermined: soft\n")
    _, decision = classify_event(_event("nothing useful"), load_policy(path))
    assert (decision.reason, decision.verdict) == (Reason.UNDETERMINED, Verdict.SOFT)


@pytest.mark.parametrize(
    ("content", "suffix", "message"),
    [
        ('profile = "strict"', ".toml", "profile = 'strict'"),
        ("[verdicts]\nuser_unkown = 'soft'", ".toml", "unknown reason 'user_unkown'"),
        ("[verdicts]\nuser_unknown = 'maybe'", ".toml", 'expected "hard" or "soft"'),
        (
            "[[text_rules]]\nid = 'x'\nreason = 'blocked'\npatterns = ['(unclosed']",
            ".toml",
            "not a valid RE2 pattern",
        ),
        (
            "[[text_rules]]\nid = 'x'\nreason = 'blocked'\npatterns = ['a']\nclasses = [3]",
            ".toml",
            "'classes'",
        ),
        ("[[text_rules]]\nreason = 'blocked'\npatterns = ['a']", ".toml", "needs a string 'id'"),
        (
            "[[text_rules]]\nid = 'x'\nreason = 'blocked'\npatterns = ['a']\ntransient = 'yes'",
            ".toml",
            "'transient' must be true or false",
        ),
        ("colour = 1", ".toml", "unknown keys ['colour']"),
        (
            "[[text_rules]]\nid = 'x'\nreason = 'blocked'\npatterns = ['']",
            ".toml",
            "non-empty strings",
        ),
        (
            "[[text_rules]]\nid = 'x'\nreason = 'delivered'\npatterns = ['ok']",
            ".toml",
            "not a failure reason",
        ),
        ("[verdicts]\ndelivered = 'hard'", ".toml", "not a failure reason"),
        ("verdicts: [1, 2", ".yaml", "not valid YAML"),
        ("= nonsense", ".toml", "not valid TOML"),
        ("- a\n- b\n", ".yaml", "table/mapping at the top level"),
    ],
)
def test_bad_policy_files_are_rejected_clearly(
    tmp_path: Path, content: str, suffix: str, message: str
) -> None:
    path = tmp_path / f"policy{suffix}"
    path.write_text(content)
    with pytest.raises(PolicyError) as raised:
        load_policy(path)
    assert message in str(raised.value)
    assert str(path) in str(raised.value)


def test_missing_policy_file() -> None:
    with pytest.raises(PolicyError, match="cannot read policy file"):
        load_policy("/nonexistent/policy.toml")


@pytest.mark.parametrize(
    ("diagnostic", "reason", "rule_id"),
    [
        # No recipient had been named yet: a reply to MAIL FROM is about the sender ...
        (
            "host mx.example.net[192.0.2.20] said: 553 5.1.8 <bounce@example.com>... Domain of sender address "
            "bounce@example.com does not exist (in reply to MAIL FROM command)",
            Reason.SENDER_REJECTED,
            "text.sender_rejected.sender_address",
        ),
        (
            "host mx.example.net[192.0.2.20] said: 550 5.1.1 <bounce@example.com> User unknown "
            "(in reply to MAIL FROM command)",
            Reason.SENDER_REJECTED,
            "command.mail_from",
        ),
        (
            "host mx.example.net[192.0.2.20] said: 550 Ip frequency limited (in reply to MAIL FROM command)",
            Reason.RATE_LIMITED,
            "text.rate_limited.rate",
        ),
        # ... and a refusal at connect/EHLO is about the connecting host.
        (
            "host mx.example.net[192.0.2.20] refused to talk to me: 554 mx.example.net ESMTP not accepting messages",
            Reason.BLOCKED,
            "command.connect",
        ),
        (
            "host mx.example.net[192.0.2.20] said: 550 5.1.1 nope (in reply to EHLO command)",
            Reason.BLOCKED,
            "command.ehlo",
        ),
    ],
)
def test_replies_before_rcpt_never_blame_the_recipient(
    diagnostic: str, reason: Reason, rule_id: str
) -> None:
    _, decision = classify_event(_event(diagnostic))
    assert (decision.reason, decision.rule_id, decision.verdict) == (reason, rule_id, Verdict.SOFT)


@pytest.mark.parametrize(
    ("diagnostic", "reason", "verdict"),
    [
        (
            "550 5.4.1 Recipient address rejected: Access denied. For more information see "
            "https://aka.ms/EXOSmtpErrors [AM0PR01MB1234.eurprd01.prod.outlook.example]",
            Reason.USER_UNKNOWN,
            Verdict.HARD,
        ),
        (
            "553 Relaying disallowed. Invalid Domain - example.eu",
            Reason.POLICY_REJECTED,
            Verdict.SOFT,
        ),
        (
            "521 5.2.1 :  AOL will not accept delivery of this message.",
            Reason.POLICY_REJECTED,
            Verdict.SOFT,
        ),
        (
            "554-Transaction failed 554-Reject due to policy restrictions",
            Reason.POLICY_REJECTED,
            Verdict.SOFT,
        ),
        ("550 Rejected by header based Anti-Spoofing policy", Reason.AUTH_FAILED, Verdict.SOFT),
        (
            "550 permanent failure for one or more recipients (lou@example.org:blocked)",
            Reason.BLOCKED,
            Verdict.SOFT,
        ),
        (
            "554 mx.example.net 198.51.100.10 found on one or more DNSBLs",
            Reason.BLOCKED,
            Verdict.SOFT,
        ),
        ("550 Mail content denied", Reason.CONTENT_REJECTED, Verdict.SOFT),
        ("550 Daily limit exceeded", Reason.RATE_LIMITED, Verdict.SOFT),
        ("550 5.4.6 Unusual sending activity detected", Reason.RATE_LIMITED, Verdict.SOFT),
        ("550 5.7.1 Sender user unknown", Reason.SENDER_REJECTED, Verdict.SOFT),
        ("550 5.7.1 Sender account is disabled", Reason.SENDER_REJECTED, Verdict.SOFT),
        (
            "550 Callout verification failed: 550 5.1.1 <bounce@example.com> User unknown",
            Reason.SENDER_REJECTED,
            Verdict.SOFT,
        ),
        ("550 Your IP no longer exists in our allow list", Reason.BLOCKED, Verdict.SOFT),
        (
            "550 Message was not accepted -- invalid mailbox. Local mailbox a@example.com is unavailable: "
            "account is disabled",
            Reason.MAILBOX_DISABLED,
            Verdict.HARD,
        ),
        ("error writing message: File too large", Reason.MAILBOX_FULL, Verdict.SOFT),
    ],
)
def test_wording_found_in_real_logs(diagnostic: str, reason: Reason, verdict: Verdict) -> None:
    _, decision = classify_event(_event(diagnostic))
    assert (decision.reason, decision.verdict) == (reason, verdict), decision.rule_id


@pytest.mark.parametrize(
    ("address", "text", "reason", "verdict"),
    [
        # The quoted recipient must not read as spam, a block list or DMARC wording.
        ("spam@example.com", "550 5.1.1 <{a}>... User unknown", Reason.USER_UNKNOWN, Verdict.HARD),
        (
            "blacklist@example.com",
            "550 5.1.1 <{a}>: no such user",
            Reason.USER_UNKNOWN,
            Verdict.HARD,
        ),
        (
            "dmarc-reports@example.com",
            "550 5.1.1 <{a}> User unknown",
            Reason.USER_UNKNOWN,
            Verdict.HARD,
        ),
        (
            "virus@example.org",
            "550 <{a}>: Recipient address rejected",
            Reason.UNDETERMINED,
            Verdict.HARD,
        ),
        (
            "greylist@example.net",
            "450 <{a}>: Recipient address rejected",
            Reason.UNDETERMINED,
            Verdict.SOFT,
        ),
        # An address shaped like a code is not a code (here the text has none at all).
        ("x#5.7.1.@example.com", "552 <{a}>: Mailbox is full", Reason.MAILBOX_FULL, Verdict.SOFT),
    ],
)
def test_the_recipient_address_in_the_text_is_not_evidence(
    address: str, text: str, reason: Reason, verdict: Verdict
) -> None:
    diagnostic = f"host mx.example.net[192.0.2.1] said: {text.format(a=address)} (in reply to RCPT TO command)"
    status = DeliveryStatus.DEFERRED if text.startswith("4") else DeliveryStatus.BOUNCED
    event = DeliveryEvent("postfix", status, recipient=address, diagnostic=diagnostic)
    evidence, decision = classify_event(event)
    assert (decision.reason, decision.verdict) == (reason, verdict)
    assert evidence.enhanced_code == (None if "5.1.1" not in text else "5.1.1")


def test_original_recipient_is_masked_too() -> None:
    text = "550 5.1.1 <abuse-spam@example.com>: User unknown in virtual alias table"
    event = DeliveryEvent(
        "postfix",
        DeliveryStatus.BOUNCED,
        recipient="jo@example.org",
        original_recipient="abuse-spam@example.com",
        diagnostic=text,
    )
    _, decision = classify_event(event)
    assert (decision.reason, decision.verdict) == (Reason.USER_UNKNOWN, Verdict.HARD)


def test_masking_lets_one_reply_to_many_recipients_share_a_decision() -> None:
    policy = dataclasses.replace(default_policy(), cache={}, outcomes={})
    for n in range(50):
        address = f"user{n}@example.com"
        event = DeliveryEvent(
            "postfix",
            DeliveryStatus.BOUNCED,
            recipient=address,
            diagnostic=f"550 5.1.1 <{address}>: Recipient address rejected: User unknown",
        )
        _, decision = classify_event(event, policy)
        assert decision.reason is Reason.USER_UNKNOWN
    assert len(policy.cache) == 1


@pytest.mark.parametrize(
    ("recipient", "echoed"),
    [
        ("Spam-Reports@Example.com", "spam-reports@example.com"),  # echoed in lower case
        ("blocked.user@example.com", "BLOCKED.USER@EXAMPLE.COM"),  # echoed in upper case
        ('"no spam"@example.com', '"no spam"@example.com'),  # a quoted local part
    ],
)
def test_the_recipient_is_masked_whatever_its_case(recipient: str, echoed: str) -> None:
    text = (
        f"550 5.1.1 <{echoed}>: Recipient address rejected: User unknown in virtual mailbox table"
    )
    event = DeliveryEvent("postfix", DeliveryStatus.BOUNCED, recipient=recipient, diagnostic=text)
    _, decision = classify_event(event, dataclasses.replace(default_policy(), cache={}))
    assert (decision.reason, decision.verdict) == (Reason.USER_UNKNOWN, Verdict.HARD)
