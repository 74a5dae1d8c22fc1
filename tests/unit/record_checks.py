"""A record built by the fast path is the general path's record in every respect.

The fast path builds an :class:`~processor.model.EnrichedRecord` without its
``__init__`` (its ``__dict__`` set from the cached outcome's): dataclass equality alone
would not see a field out of order or a missing attribute, so this checks the type, the
attributes in order, ``dataclasses.asdict`` and the serialised bytes.
"""

from __future__ import annotations

import dataclasses

from processor.model import EnrichedRecord
from processor.record import serialize


def assert_same_record(fast: EnrichedRecord, expected: EnrichedRecord) -> None:
    """``fast`` equals ``expected`` as a type, field by field in order, and as bytes."""
    assert type(fast) is EnrichedRecord
    assert list(vars(fast).items()) == list(vars(expected).items())
    assert dataclasses.asdict(fast) == dataclasses.asdict(expected)
    assert serialize(fast) == serialize(expected)
    assert repr(fast) == repr(expected)
