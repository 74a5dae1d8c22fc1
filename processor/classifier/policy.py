"""Classification policy: the default, the seed's ``class`` profile, and site policy files.

A site policy file (TOML or YAML) may set::

    profile = "default"          # or "class": 4.X.X soft, 5.X.X hard, as the seed table says

    [verdicts]                   # reason -> verdict for PERMANENT failures
    mailbox_disabled = "soft"
    mailbox_full = "hard"

    [[text_rules]]               # tried before the built-in rules
    id = "site.closed_accounts"
    reason = "mailbox_disabled"
    patterns = ["account has been closed by the owner"]
    classes = [5]
    transient = false            # true: the wording says "temporary"; permanent -> soft

Transient failures are soft and deliveries are success in every profile:
the MTA's own outcome comes first. Policies are validated when loaded; every
problem raises :class:`~processor.errors.PolicyError` naming the file and key.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from processor.classifier.rules import (
    NOT_FAILURE_REASONS,
    TextRuleSet,
    compile_text_rules,
    hard_reasons,
    parse_text_rules,
)
from processor.errors import PolicyError
from processor.model import Reason, Verdict

__all__ = ["PROFILES", "Policy", "default_policy", "load_policy"]

PROFILES = ("default", "class")
"""``default``: verdict from reason (see README); ``class``: verdict from the failure class only."""

_VERDICT_CHOICES = (Verdict.HARD, Verdict.SOFT)


@dataclass(frozen=True)
class Policy:
    """A compiled classification policy.

    :param name: ``"default"`` or the policy file's path.
    :param profile: one of :data:`PROFILES`.
    :param permanent_verdicts: reason -> verdict for permanent failures.
    :param text_rules: compiled site + built-in text rules.
    :param cache: classification results memoised by :func:`processor.classifier.classify_event`.
    :param outcomes: line outcomes memoised by :mod:`processor.fast_path`.
    """

    name: str
    profile: str
    permanent_verdicts: dict[Reason, Verdict]
    text_rules: TextRuleSet = field(repr=False)
    cache: dict[Any, Any] = field(default_factory=dict, repr=False, compare=False)
    outcomes: dict[Any, Any] = field(default_factory=dict, repr=False, compare=False)


def _default_verdicts() -> dict[Reason, Verdict]:
    hard = hard_reasons()
    return {reason: Verdict.HARD if reason in hard else Verdict.SOFT for reason in Reason}


_DEFAULT: Policy | None = None


def default_policy() -> Policy:
    """The built-in policy (compiled once)."""
    global _DEFAULT  # noqa: PLW0603 - a module-level cache of an immutable object
    if _DEFAULT is None:
        _DEFAULT = Policy("default", "default", _default_verdicts(), compile_text_rules([]))
    return _DEFAULT


def _read_document(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text("utf-8")
    except OSError as error:
        raise PolicyError(f"{path}: cannot read policy file: {error.strerror}") from None
    try:
        if path.suffix.lower() in (".yaml", ".yml"):
            document = yaml.safe_load(text)
        else:
            document = tomllib.loads(text)
    except (yaml.YAMLError, tomllib.TOMLDecodeError) as error:
        raise PolicyError(
            f"{path}: not valid {path.suffix.lstrip('.').upper() or 'TOML'}: {error}"
        ) from None
    if document is None:
        return {}
    if not isinstance(document, dict):
        raise PolicyError(f"{path}: the policy must be a table/mapping at the top level")
    return document


def _verdicts(raw: object, where: str) -> dict[Reason, Verdict]:
    verdicts = _default_verdicts()
    if raw is None:
        return verdicts
    if not isinstance(raw, dict):
        raise PolicyError(f'{where}: [verdicts] must be a table of reason = "hard" | "soft"')
    for name, value in raw.items():
        try:
            reason = Reason(name)
        except ValueError:
            known = ", ".join(r.value for r in Reason)
            raise PolicyError(
                f"{where}: [verdicts] unknown reason {name!r}; known: {known}"
            ) from None
        if reason in NOT_FAILURE_REASONS:
            raise PolicyError(
                f"{where}: [verdicts] {name}: not a failure reason; its verdict is fixed"
            )
        if value not in _VERDICT_CHOICES:
            raise PolicyError(f'{where}: [verdicts] {name} = {value!r}; expected "hard" or "soft"')
        verdicts[reason] = Verdict(value)
    return verdicts


def policy_from_document(document: dict[str, Any], where: str) -> Policy:
    """Validate a parsed policy document.

    :raises PolicyError: unknown keys, profile, reasons, verdicts or bad rules.
    """
    unknown = set(document) - {"profile", "verdicts", "text_rules"}
    if unknown:
        raise PolicyError(
            f"{where}: unknown keys {sorted(unknown)}; allowed: profile, verdicts, text_rules"
        )
    profile = document.get("profile", "default")
    if profile not in PROFILES:
        raise PolicyError(f"{where}: profile = {profile!r}; expected one of {', '.join(PROFILES)}")
    site_rules = parse_text_rules(document.get("text_rules", []), where)
    return Policy(
        where,
        profile,
        _verdicts(document.get("verdicts"), where),
        compile_text_rules(site_rules, where),
    )


def load_policy(path: str | Path | None) -> Policy:
    """Load and validate a site policy file; ``None`` gives :func:`default_policy`.

    ``path`` may also be the name of a built-in profile (``"default"``, ``"class"``).

    :raises PolicyError: the file cannot be read or is invalid (the message names
        the file, the key and what was expected).
    """
    if path is None or str(path) == "default":
        return default_policy()
    if str(path) == "class":
        return policy_from_document({"profile": "class"}, "class")
    path = Path(path)
    return policy_from_document(_read_document(path), str(path))
