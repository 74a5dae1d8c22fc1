"""Rule tables: text rules (RE2 set), code -> reason tables, reason verdicts.

All tables are data files in ``processor/classifier/data/`` (TOML), loaded once.
Text rules are compiled into one RE2 ``Set``: one linear-time pass over the
diagnostic text finds every rule that matches (RE2 guarantees time linear in
the input, so hostile diagnostic strings cannot cause catastrophic
backtracking).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import re2

from processor.errors import PolicyError
from processor.model import Reason

__all__ = [
    "CodeTables",
    "TextRule",
    "TextRuleSet",
    "builtin_text_rules",
    "code_tables",
    "compile_text_rules",
    "hard_reasons",
    "parse_text_rules",
]

_PERMANENT, _TRANSIENT = 5, 4

NOT_FAILURE_REASONS = frozenset(
    {Reason.DELIVERED, Reason.DISCARDED, Reason.AUTO_REPLY, Reason.COMPLAINT, Reason.SUPPRESSED}
)
"""Reasons set by the input's structure (status, reports, platforms), not by text or policy."""
_RE2_MAX_MEM = 64 << 20  # bytes for the compiled set and its DFA cache


@dataclass(frozen=True, slots=True)
class TextRule:
    """One text rule.

    :param rule_id: stable id, e.g. ``"google.over_quota"``.
    :param reason: the reason the rule gives.
    :param patterns: RE2 patterns, matched case-insensitively anywhere in the text.
    :param classes: failure classes the rule applies to (4 transient, 5 permanent).
    :param provider: mailbox provider the wording belongs to, if any.
    :param doc: URL of the provider documentation the rule is based on.
    :param example: a realistic diagnostic text the rule must classify.
    :param transient: the wording itself says the condition is temporary
        ("temporarily locked"): a permanent failure matched by this rule gets the
        transient verdict (``soft``), as RFC 3463 §3.3 X.2.1 allows for a mailbox
        that is only temporarily disabled. The reason is kept.
    """

    rule_id: str
    reason: Reason
    patterns: tuple[str, ...]
    classes: frozenset[int]
    provider: str | None = None
    doc: str | None = None
    example: str | None = None
    transient: bool = False


class TextRuleSet:
    """Ordered text rules compiled into one RE2 set; the first matching rule wins."""

    __slots__ = ("_pattern_rule", "_set", "rules")
    rules: tuple[TextRule, ...]
    _pattern_rule: tuple[int, ...]

    def __init__(self, rules: list[TextRule], where: str = "text rules") -> None:
        """Compile ``rules``.

        :param where: the file the rules come from, for error messages.
        :raises PolicyError: a pattern is not valid RE2 syntax (the message names the rule).
        """
        options = re2.Options()
        options.log_errors = False
        options.case_sensitive = False
        options.never_capture = True
        options.max_mem = _RE2_MAX_MEM
        compiled = re2.Set.SearchSet(options)
        pattern_rule: list[int] = []
        for index, rule in enumerate(rules):
            for pattern in rule.patterns:
                try:
                    compiled.Add(pattern)
                except re2.error:
                    raise PolicyError(
                        f"{where}: text rule {rule.rule_id!r}: {pattern!r} is not a valid RE2 "
                        "pattern (no look-around, no backreferences; check the brackets)"
                    ) from None
                pattern_rule.append(index)
        if pattern_rule:
            compiled.Compile()
        self.rules = tuple(rules)
        self._set = compiled if pattern_rule else None
        self._pattern_rule = tuple(pattern_rule)

    def first_match(self, text: str, failure_class: int) -> TextRule | None:
        """Return the first rule (file order) that matches ``text`` for ``failure_class``.

        :param text: diagnostic text of any length.
        :param failure_class: 4 (transient) or 5 (permanent); rules restricted
            to the other class are passed over. Any other value (class unknown)
            lets every rule apply.
        """
        matches = self.all_matches(text, failure_class)
        return matches[0] if matches else None

    def all_matches(self, text: str, failure_class: int) -> list[TextRule]:
        """Every rule that matches ``text`` for ``failure_class``, in file order.

        One pass of the RE2 set over ``text`` (linear time); the class filter is
        the one :meth:`first_match` applies.
        """
        if self._set is None:
            return []
        matches = self._set.Match(text)
        if not matches:
            return []
        pattern_rule = self._pattern_rule
        found: list[TextRule] = []
        for rule_index in sorted({pattern_rule[m] for m in matches}):
            rule: TextRule = self.rules[rule_index]
            if failure_class in rule.classes or failure_class not in (_TRANSIENT, _PERMANENT):
                found.append(rule)
        return found


def _read_toml(name: str) -> dict[str, Any]:
    text = resources.files("processor.classifier").joinpath("data", name).read_text("utf-8")
    return tomllib.loads(text)


def _reason(value: object, where: str) -> Reason:
    try:
        return Reason(str(value))
    except ValueError:
        known = ", ".join(r.value for r in Reason)
        raise PolicyError(f"{where}: unknown reason {value!r}; known reasons: {known}") from None


def _rule_from_table(entry: dict[str, Any], where: str) -> TextRule:
    rule_id = entry.get("id")
    if not isinstance(rule_id, str) or not rule_id:
        raise PolicyError(f"{where}: every text rule needs a string 'id'")
    patterns = entry.get("patterns")
    if (
        not isinstance(patterns, list)
        or not patterns
        or not all(isinstance(p, str) and p for p in patterns)
    ):
        raise PolicyError(
            f"{where}: rule {rule_id!r} needs 'patterns', a non-empty list of non-empty strings"
        )
    classes = entry.get("classes", [_TRANSIENT, _PERMANENT])
    if not isinstance(classes, list) or not set(classes) <= {_TRANSIENT, _PERMANENT} or not classes:
        raise PolicyError(f"{where}: rule {rule_id!r}: 'classes' must be a list of 4 and/or 5")
    allowed = {"id", "reason", "patterns", "classes", "provider", "doc", "example", "transient"}
    unknown = set(entry) - allowed
    if unknown:
        raise PolicyError(f"{where}: rule {rule_id!r}: unknown keys {sorted(unknown)}")
    reason = _reason(entry.get("reason"), f"{where}: rule {rule_id!r}")
    if reason in NOT_FAILURE_REASONS:
        raise PolicyError(
            f"{where}: rule {rule_id!r}: reason {reason.value!r} is not a failure reason; "
            "text rules explain failures"
        )
    transient = entry.get("transient", False)
    if not isinstance(transient, bool):
        raise PolicyError(f"{where}: rule {rule_id!r}: 'transient' must be true or false")
    return TextRule(
        rule_id=rule_id,
        reason=reason,
        patterns=tuple(patterns),
        classes=frozenset(classes),
        provider=entry.get("provider"),
        doc=entry.get("doc"),
        example=entry.get("example"),
        transient=transient,
    )


def parse_text_rules(entries: object, where: str) -> list[TextRule]:
    """Validate a list of rule tables (from TOML or YAML) into :class:`TextRule` objects.

    :raises PolicyError: naming ``where``, the rule and the problem.
    """
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise PolicyError(f"{where}: text rules must be a list of tables")
    rules = [_rule_from_table(entry, where) for entry in entries]
    seen: set[str] = set()
    for rule in rules:
        if rule.rule_id in seen:
            raise PolicyError(f"{where}: duplicate rule id {rule.rule_id!r}")
        seen.add(rule.rule_id)
    return rules


@cache
def builtin_text_rules() -> tuple[TextRule, ...]:
    """The shipped text rules, in evaluation order (``data/text_rules.toml``)."""
    return tuple(parse_text_rules(_read_toml("text_rules.toml").get("rule"), "text_rules.toml"))


def compile_text_rules(site_rules: list[TextRule], where: str = "site policy") -> TextRuleSet:
    """Site rules first (they win), then the built-in rules."""
    return TextRuleSet([*site_rules, *builtin_text_rules()], where)


@dataclass(frozen=True, slots=True)
class CodeTables:
    """Code -> reason tables (``data/code_rules.toml``).

    :param enhanced: ``"subject.detail"`` (e.g. ``"1.1"``) -> reason, any class.
    :param enhanced_transient: overrides of ``enhanced`` for transient failures.
    :param subject_fallback: subject digit(s) -> reason for unregistered codes.
    :param reply: basic reply code -> reason.
    """

    enhanced: dict[str, Reason]
    enhanced_transient: dict[str, Reason]
    subject_fallback: dict[str, Reason]
    reply: dict[int, Reason]


def _strip_class(pattern: str) -> str:
    if not pattern.startswith("X."):
        raise PolicyError(f"code_rules.toml: enhanced keys must look like 'X.1.1', got {pattern!r}")
    return pattern[2:]


@cache
def code_tables() -> CodeTables:
    """Load ``data/code_rules.toml`` once."""
    data = _read_toml("code_rules.toml")
    where = "code_rules.toml"
    return CodeTables(
        enhanced={_strip_class(k): _reason(v, where) for k, v in data["enhanced"].items()},
        enhanced_transient={
            _strip_class(k): _reason(v, where) for k, v in data["enhanced_transient"].items()
        },
        subject_fallback={k: _reason(v, where) for k, v in data["subject_fallback"].items()},
        reply={int(k): _reason(v, where) for k, v in data["reply"].items()},
    )


@cache
def hard_reasons() -> frozenset[Reason]:
    """Reasons whose permanent failures are hard bounces by default (``data/reasons.toml``)."""
    data = _read_toml("reasons.toml")
    return frozenset(
        _reason(name, "reasons.toml")
        for name, entry in data.items()
        if entry["hard_when_permanent"]
    )
