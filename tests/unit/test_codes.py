"""Code registry: IANA enhanced status codes (RFC 3463 / RFC 5248) and reply codes (RFC 5321 §4.2).

Coverage against the project's shared reference tables and the user's seed table is
checked when ``../shared`` sits beside the repository (as in CI); the seed's code list
is also embedded below so coverage is checked without it.
"""

from __future__ import annotations

import csv
import re
from importlib import resources
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from processor.model import EnhancedStatus, ReplyCode
from processor.smtp import codes
from processor.smtp.codes import (
    class_title,
    enhanced_metric_label,
    enhanced_status,
    expand_enhanced_pattern,
    registered_enhanced_codes,
    registered_reply_codes,
    reply_code,
    reply_metric_label,
    subject_title,
)
from processor.smtp.explain import explain, explain_command, format_explanation

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED = REPO_ROOT / ".." / "shared"

# The user's seed table (shared/seed/000_*.txt), embedded: its enhanced codes and reply codes.
SEED_ENHANCED = [
    "5.0.0", "5.1.0", "5.1.1", "5.1.2", "5.1.3", "5.1.4", "5.1.5", "5.1.6", "5.1.7", "5.1.8",
    "5.2.0", "5.2.1", "5.2.2", "5.2.3", "5.2.4",
    "5.3.0", "5.3.1", "5.3.2", "5.3.3", "5.3.4",
    "5.4.0", "5.4.1", "5.4.2", "5.4.3", "5.4.4", "5.4.5", "5.4.6", "5.4.7",
    "5.5.0", "5.5.1", "5.5.2", "5.5.3", "5.5.4", "5.5.5",
    "5.6.0", "5.6.1", "5.6.2", "5.6.3", "5.6.4", "5.6.5",
    "5.7.0", "5.7.1", "5.7.2", "5.7.3", "5.7.4", "5.7.5", "5.7.6", "5.7.7",
]  # fmt: skip
SEED_REPLY = [421, 450, 451, 452, 500, 501, 502, 503, 504, 550, 551, 552, 553, 554]
HTTP_GROUP_NAMES = {"Informational", "Success", "Redirection", "Client Error", "Server Error"}
RFC5321_GROUPS = {
    2: "Positive Completion",
    3: "Positive Intermediate",
    4: "Transient Negative Completion",
    5: "Permanent Negative Completion",
}


def shared_file(*parts: str) -> Path:
    if not SHARED.is_dir():
        pytest.skip(f"shared reference folder absent (expected beside the repository: {SHARED})")
    return SHARED.joinpath(*parts)


def read_reference(name: str) -> list[dict[str, str]]:
    with shared_file("reference", name).open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


# --- enhanced status codes -------------------------------------------------------------


def test_registered_detail_code_carries_registry_titles() -> None:
    assert enhanced_status("5.1.1") == EnhancedStatus(
        code="5.1.1",
        class_title="Permanent Failure",
        subject_title="Addressing Status",
        detail_title="Bad destination mailbox address",
        registered=True,
        reference="RFC3463",
    )


@pytest.mark.parametrize(
    ("code", "class_", "subject", "detail", "reference"),
    [
        ("2.0.0", "Success", "Other or Undefined Status", "Other undefined Status", "RFC3463"),
        ("4.2.2", "Persistent Transient Failure", "Mailbox Status", "Mailbox full", "RFC3463"),
        ("4.7.28", "Persistent Transient Failure", "Security or Policy Status",
         "Mail flood detected", "draft-levine-mailbomb-header"),
        ("5.1.10", "Permanent Failure", "Addressing Status", "Recipient address has null MX",
         "RFC7505; RFC7504"),
        ("5.7.26", "Permanent Failure", "Security or Policy Status",
         "Multiple authentication checks failed", "RFC7372"),
        ("5.7.25", "Permanent Failure", "Security or Policy Status",
         "Reverse DNS validation failed", "RFC7372 Section 3.3"),
        ("2.6.4", "Success", "Message Content or Media Status", "Conversion with loss performed",
         "RFC3463"),
        ("5.7.30", "Permanent Failure", "Security or Policy Status", "REQUIRETLS support required",
         "RFC8689"),
    ],
)  # fmt: skip
def test_registered_codes(
    code: str, class_: str, subject: str, detail: str, reference: str
) -> None:
    status = enhanced_status(code)
    assert status == EnhancedStatus(code, class_, subject, detail, True, reference)


def test_seed_text_for_5_0_0_loses_to_the_registry() -> None:
    status = enhanced_status("5.0.0")
    assert status is not None
    assert status.detail_title == "Other undefined Status"


def test_x_6_10_has_no_registry_title_and_reads_as_its_original_x_6_8() -> None:
    entry = codes.enhanced_registry_entry("X.6.10")
    assert entry is not None
    assert (entry.title, entry.duplicate_of, entry.reply_codes) == (None, "X.6.8", ())
    status = enhanced_status("5.6.10")
    assert status == EnhancedStatus(
        "5.6.10",
        "Permanent Failure",
        "Message Content or Media Status",
        "UTF-8 string reply is required, but not permitted by the SMTP client",
        True,
        "RFC6531",
    )


@pytest.mark.parametrize(
    ("code", "class_", "subject"),
    [
        ("5.7.606", "Permanent Failure", "Security or Policy Status"),
        ("5.1.90", "Permanent Failure", "Addressing Status"),
        ("4.7.500", "Persistent Transient Failure", "Security or Policy Status"),
        ("5.4.310", "Permanent Failure", "Network and Routing Status"),
        ("2.1.11", "Success", "Addressing Status"),
        ("5.7.31", "Permanent Failure", "Security or Policy Status"),
        ("5.9.1", "Permanent Failure", None),
        ("4.999.999", "Persistent Transient Failure", None),
        ("5.8.0", "Permanent Failure", None),
    ],
)
def test_well_formed_unregistered_codes(code: str, class_: str, subject: str | None) -> None:
    assert enhanced_status(code) == EnhancedStatus(code, class_, subject, None, False, None)


@pytest.mark.parametrize(
    "code",
    [
        "5.1", "6.1.1", "1.1.1", "3.1.1", "5.01.1", "5.1.01", "05.1.1", "5.1.1000", "5.1000.1",
        "550", "", "5..1", "5.1.", ".5.1.1", "5.1.1.1", " 5.1.1", "5.1.1 ", "5.1.1\n",
        "X.1.1", "5.1.a", "\uff15.1.1", "5.\uff11.1", "5.1.1" + "0" * 1000, "5,1,1",
    ],
)  # fmt: skip
def test_malformed_codes_are_none(code: str) -> None:
    assert enhanced_status(code) is None


@pytest.mark.parametrize("value", [None, 511, 5.1, b"5.1.1", ["5.1.1"], {"c": 1}])
def test_non_string_input_is_none_not_an_error(value: object) -> None:
    assert enhanced_status(value) is None  # type: ignore[arg-type]


def test_lookups_return_the_same_object_each_time() -> None:
    assert enhanced_status("5.1.1") is enhanced_status("5.1.1")
    assert enhanced_status("5.7.606") is enhanced_status("5.7.606")


@given(st.text(max_size=12))
def test_any_text_gives_none_or_a_status_for_exactly_that_code(text: str) -> None:
    status = enhanced_status(text)
    assert status is None or status.code == text
    well_formed = re.fullmatch(r"[245]\.(0|[1-9][0-9]{0,2})\.(0|[1-9][0-9]{0,2})", text)
    assert (status is not None) == (well_formed is not None)


@given(st.sampled_from([2, 4, 5]), st.integers(0, 999), st.integers(0, 999))
def test_every_well_formed_code_resolves(cls: int, subject: int, detail: int) -> None:
    status = enhanced_status(f"{cls}.{subject}.{detail}")
    assert status is not None
    assert status.class_title == class_title(cls)
    assert status.subject_title == subject_title(subject)
    pattern = f"X.{subject}.{detail}"
    assert status.registered == (pattern in registered_enhanced_codes())
    assert (status.detail_title is not None) == status.registered


def test_class_and_subject_titles() -> None:
    assert [class_title(c) for c in (2, 4, 5)] == [
        "Success",
        "Persistent Transient Failure",
        "Permanent Failure",
    ]
    assert class_title(3) is None
    assert [subject_title(s) for s in range(9)] == [
        "Other or Undefined Status",
        "Addressing Status",
        "Mailbox Status",
        "Mail System Status",
        "Network and Routing Status",
        "Mail Delivery Protocol Status",
        "Message Content or Media Status",
        "Security or Policy Status",
        None,
    ]


def test_registered_enhanced_codes_and_expansion() -> None:
    patterns = registered_enhanced_codes()
    assert len(patterns) == 81 == len(set(patterns))
    assert (patterns[0], patterns[-1]) == ("X.0.0", "X.7.30")
    assert "X.7.28" in patterns
    assert "X.4.8" not in patterns  # Sisimai's draft code, never registered
    assert expand_enhanced_pattern("X.1.1") == ["2.1.1", "4.1.1", "5.1.1"]
    concrete = [code for p in patterns for code in expand_enhanced_pattern(p)]
    assert len(concrete) == 243
    assert all(enhanced_metric_label(enhanced_status(code)) == code for code in concrete)
    with pytest.raises(ValueError, match="pattern"):
        expand_enhanced_pattern("5.1.1")


def test_enhanced_metric_labels_are_bounded() -> None:
    assert enhanced_metric_label(enhanced_status("5.1.1")) == "5.1.1"
    assert enhanced_metric_label(enhanced_status("5.7.606")) == "unregistered"
    assert enhanced_metric_label(enhanced_status("5.01.1")) == "none"
    assert enhanced_metric_label(None) == "none"


def test_registry_notes_that_matter_for_classification() -> None:
    notes = {p: codes.enhanced_registry_entry(p) for p in ("X.2.2", "X.4.4", "X.7.1", "X.2.1")}
    assert "persistent transient" in (notes["X.2.2"].note or "")  # type: ignore[union-attr]
    assert "both permanent and transient" in (notes["X.4.4"].note or "")  # type: ignore[union-attr]
    assert "Generic policy refusal" in (notes["X.7.1"].note or "")  # type: ignore[union-attr]
    assert "transient otherwise" in (notes["X.2.1"].note or "")  # type: ignore[union-attr]


def test_enhanced_data_file_header_gives_provenance() -> None:
    text = (
        resources.files("processor.smtp")
        .joinpath("data", "enhanced_status_codes.csv")
        .read_text(encoding="utf-8")
    )
    header = "\n".join(line for line in text.splitlines() if line.startswith("#"))
    for needed in (
        "https://www.iana.org/assignments/smtp-enhanced-status-codes",
        "RFC 3463",
        "RFC 5248",
        "2020-09-16",
        "X.6.10",
    ):
        assert needed in header


# --- reply codes -----------------------------------------------------------------------


def test_rfc5321_reply_code() -> None:
    assert reply_code(550) == ReplyCode(
        code=550,
        meaning=(
            "Requested action not taken: mailbox unavailable "
            "(e.g. mailbox not found, no access, or command rejected for policy reasons)"
        ),
        group="Permanent Negative Completion",
        registered=True,
        reference="RFC5321",
    )
    assert reply_code(354) == ReplyCode(
        354, "Start mail input; end with <CRLF>.<CRLF>", "Positive Intermediate", True, "RFC5321"
    )


def test_extension_reply_codes() -> None:
    assert reply_code(521) == ReplyCode(
        521, "Host does not accept mail", "Permanent Negative Completion", True, "RFC7504"
    )
    assert reply_code(556) == ReplyCode(
        556, "Domain does not accept mail", "Permanent Negative Completion", True, "RFC7504"
    )
    assert reply_code(535) == ReplyCode(
        535,
        "Authentication credentials invalid (AUTH)",
        "Permanent Negative Completion",
        True,
        "RFC4954",
    )
    assert reply_code(454) == ReplyCode(
        454,
        "Temporary authentication failure (AUTH); "
        "TLS not available due to temporary reason (STARTTLS)",
        "Transient Negative Completion",
        True,
        "RFC4954; RFC3207",
    )


def test_reply_code_with_general_and_extension_meanings_keeps_the_general_one() -> None:
    rc = reply_code(501)
    assert rc is not None
    assert (rc.meaning, rc.reference) == ("Syntax error in parameters or arguments", "RFC5321")
    contexts = [row.context for row in codes.reply_code_entries(501)]
    assert contexts == [None, "AUTH", "AUTH", "STARTTLS"]


@pytest.mark.parametrize(
    ("code", "group"),
    [
        (422, "Transient Negative Completion"),
        (456, "Transient Negative Completion"),
        (559, "Permanent Negative Completion"),
        (259, "Positive Completion"),
        (300, "Positive Intermediate"),
    ],
)
def test_unregistered_reply_codes_keep_their_group(code: int, group: str) -> None:
    assert reply_code(code) == ReplyCode(code, None, group, False, None)
    assert reply_metric_label(reply_code(code)) == "other"


@pytest.mark.parametrize("code", [999, 150, 199, 100, 600, 569, 599, 260, 0, -550, 5500, 55])
def test_invalid_reply_codes_are_none(code: int) -> None:
    assert reply_code(code) is None


@pytest.mark.parametrize("value", ["550", None, [550], b"550"])
def test_non_int_reply_input_is_none_not_an_error(value: object) -> None:
    assert reply_code(value) is None  # type: ignore[arg-type]


def test_reply_groups_are_rfc5321_terms_never_http_ones() -> None:
    for code in range(200, 600):
        rc = reply_code(code)
        if rc is None:
            continue
        assert rc.group == RFC5321_GROUPS[code // 100]
        assert rc.group not in HTTP_GROUP_NAMES
    assert codes.reply_group_title(1) == "Positive Preliminary"
    groups = [codes.reply_group_title(d) for d in range(1, 6)]
    assert not HTTP_GROUP_NAMES.intersection(groups)


def test_reply_categories() -> None:
    assert [codes.reply_category_title(d) for d in range(7)] == [
        "Syntax",
        "Information",
        "Connections",
        "Unspecified",
        "Unspecified",
        "Mail system",
        None,
    ]


def test_registered_reply_codes() -> None:
    expected_rfc5321 = {211, 214, 220, 221, 250, 251, 252, 354, 421, 450, 451, 452, 455, 500}
    expected_rfc5321 |= {501, 502, 503, 504, 550, 551, 552, 553, 554, 555}
    expected = expected_rfc5321 | {521, 556} | {235, 334, 432, 454, 530, 534, 535, 538}
    expected |= {253, 458, 459, 453, 355}  # ETRN (RFC 1985), ATRN (RFC 2645), RFC 1845
    assert registered_reply_codes() == sorted(expected)
    assert all(reply_metric_label(reply_code(c)) == str(c) for c in registered_reply_codes())
    for left_out in (422, 430, 523, 524, 525, 533, 456, 520, 557):
        assert left_out not in registered_reply_codes()
    assert reply_metric_label(None) == "none"


def test_registry_only_reply_codes_point_at_their_enhanced_entries() -> None:
    assert codes.reply_enhanced_associations(422) == ["X.7.12"]
    assert codes.reply_enhanced_associations(521) == ["X.3.2"]


# --- coverage of the user's seed table and the shared reference tables ------------------


def test_embedded_seed_codes_are_all_known() -> None:
    for code in SEED_ENHANCED:
        status = enhanced_status(code)
        assert status is not None and status.registered, code
    for rc in SEED_REPLY:
        reply = reply_code(rc)
        assert reply is not None and reply.registered, rc


def test_seed_file_codes_are_all_known_and_embedded() -> None:
    seeds = sorted(shared_file("seed").glob("000_*.txt"))
    if not seeds:
        pytest.skip("no seed table in shared/seed")
    enhanced: list[str] = []
    replies: list[int] = []
    groups: list[str] = []
    for line in seeds[0].read_text(encoding="utf-8").splitlines():
        if m := re.match(r"(\d\.\d{1,3}\.\d{1,3}) \|", line):
            enhanced.append(m[1])
        elif m := re.match(r"(\d{3}) \|", line):
            replies.append(int(m[1]))
        elif m := re.match(r"\dxx \| ([^|]+) \|", line):
            groups.append(m[1].strip())
    assert enhanced == SEED_ENHANCED
    assert replies == SEED_REPLY
    assert set(groups) == HTTP_GROUP_NAMES  # the seed uses HTTP's names ...
    ours = {reply_code(c).group for c in SEED_REPLY}  # type: ignore[union-attr]
    assert not ours & set(groups)  # ... we do not


def test_every_registry_row_of_the_reference_is_covered() -> None:
    rows = read_reference("enhanced-status-codes.csv")
    assert len(rows) == 92
    details = [row for row in rows if row["kind"] == "detail"]
    assert sorted(registered_enhanced_codes()) == sorted(row["code"] for row in details)
    for row in rows:
        if row["kind"] == "class":
            assert class_title(int(row["code"][0])) == row["summary"]
        elif row["kind"] == "subject":
            assert subject_title(int(row["code"].split(".")[1])) == row["summary"]
    titles = {row["code"]: row["summary"] for row in details}
    for row in details:
        entry = codes.enhanced_registry_entry(row["code"])
        assert entry is not None
        assert (entry.title or "") == row["summary"]
        assert entry.reference == row["reference"].replace("(", "").replace(")", "")
        expected_title = row["summary"] or titles["X.6.8"]
        for code in expand_enhanced_pattern(row["code"]):
            status = enhanced_status(code)
            assert status is not None and status.registered
            assert status.detail_title == expected_title


def test_every_rfc_defined_reference_reply_code_is_covered() -> None:
    rows = read_reference("reply-codes.csv")
    assert len(rows) == 76
    for row in rows:
        if row["kind"] == "group":
            ours = codes.reply_group_title(int(row["code"][0]))
            assert ours is not None and row["meaning"].startswith(ours + " reply")
        elif row["kind"] == "category":
            ours = codes.reply_category_title(int(row["code"][1]))
            assert ours is not None and row["meaning"].startswith(ours)
        elif row["reference"].startswith("RFC") and row["context"] != "registry-only":
            rc = reply_code(int(row["code"]))
            assert rc is not None and rc.registered, row["code"]
            assert rc.group == row["class_name"]
            contexts = {(e.context, e.enhanced) for e in codes.reply_code_entries(rc.code)}
            context = None if row["context"] == "general" else row["context"].split(" ")[0]
            assert (context, row["enhanced_code"] or None) in contexts, row
        else:
            assert int(row["code"]) not in registered_reply_codes(), row["code"]


# --- explain ----------------------------------------------------------------------------


def test_explain_items() -> None:
    items = explain(["5.7.26", " 550 ", "5.7.606", "999", "abc", "5.01.1"])
    assert [item["kind"] for item in items] == [
        "enhanced",
        "reply",
        "enhanced",
        "invalid",
        "invalid",
        "invalid",
    ]
    assert items[0] == {
        "token": "5.7.26",
        "kind": "enhanced",
        "code": "5.7.26",
        "registered": True,
        "class": 5,
        "class_title": "Permanent Failure",
        "subject": 7,
        "subject_title": "Security or Policy Status",
        "detail": 26,
        "detail_title": "Multiple authentication checks failed",
        "reference": "RFC7372",
        "reply_codes": ["550"],
        "duplicate_of": None,
        "note": "Added by RFC 7372. Gmail sends 5.7.26 for unauthenticated mail.",
    }
    assert items[1]["code"] == 550
    assert items[1]["group"] == "Permanent Negative Completion"
    assert items[1]["category"] == "Mail system"
    assert items[1]["contexts"] == []
    assert "X.1.1" in items[1]["enhanced_associations"]
    assert (items[2]["registered"], items[2]["detail_title"]) == (False, None)
    assert items[3]["error"].endswith("first digit must be 2 to 5 (RFC 5321 §4.2.1)")
    assert "nor a three-digit reply code" in items[4]["error"]
    assert "leading zeros" in items[5]["error"]
    orjson.dumps(items)  # JSON-ready


@pytest.mark.parametrize(
    ("token", "fragment"),
    [
        ("150", "only in RFC 821"),
        ("569", "second digit 6 is not 0 to 5"),
        ("6.1.1", "class must be 2, 4 or 5"),
        ("5.1", "three parts"),
        ("5.1.1000", "at most three digits"),
        ("X.1.1", "give a class, e.g. 5.1.1"),
        ("5.a.1", "decimal digits"),
    ],
)
def test_explain_errors_name_the_rule(token: str, fragment: str) -> None:
    (item,) = explain([token])
    assert item["kind"] == "invalid" and fragment in item["error"]


def test_format_explanation_is_aligned_text() -> None:
    text = format_explanation(explain(["5.1.1", "454", "6.1.1"]))
    blocks = text.split("\n\n")
    assert blocks[0].splitlines() == [
        "5.1.1  enhanced status code, registered (RFC3463)",
        "    class     5    Permanent Failure",
        "    subject   1    Addressing Status",
        "    detail    1    Bad destination mailbox address",
        "    replies        451 550",
        "    note           Registry calls it useful only for permanent failures "
        "although it also lists reply 451.",
    ]
    assert "    STARTTLS       TLS not available due to temporary reason (RFC3207)" in blocks[1]
    assert blocks[2] == "6.1.1  invalid: the class must be 2, 4 or 5 (RFC 3463 §3.1)"


def test_explain_command_json_and_exit_status() -> None:
    runner = CliRunner()
    ok = runner.invoke(explain_command, ["--json", "4.2.2", "552"])
    assert ok.exit_code == 0
    items = orjson.loads(ok.output)
    assert [(i["kind"], i["code"]) for i in items] == [("enhanced", "4.2.2"), ("reply", 552)]
    bad = runner.invoke(explain_command, ["5.1.1", "abc"])
    assert bad.exit_code == 1
    assert bad.output.startswith("5.1.1  enhanced status code, registered (RFC3463)")
    assert runner.invoke(explain_command, []).exit_code == 2  # usage error: no CODE
