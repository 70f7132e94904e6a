"""Tag names: lowercase slugs, and the built-in ones the suite gives a meaning to."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import StringConstraints

TAG_PATTERN = r"^[a-z][a-z0-9_]{1,39}$"
_TAG = re.compile(TAG_PATTERN)

NO_SHOW = "no_show"
ON_HOLD = "on_hold"
RE_INVITE = "re_invite"
RUNNER_UP = "runner_up"
SET_ASIDE = "set_aside"

BUILT_IN_TAGS: dict[str, str] = {
    NO_SHOW: "Did not take an interview they were invited to, or did not turn up.",
    ON_HOLD: "Nobody contacts them until the tag's date (``until`` is required).",
    RE_INVITE: "Worth inviting again.",
    RUNNER_UP: "Passed an interview stage but was not hired.",
    SET_ASIDE: "Put aside by HR (e.g. from the no-show group); not proposed again.",
}
"""The tags with a meaning elsewhere in the pool (eligibility, recommendations, the no-show
group). Any other slug is a tag of HR's own."""

TIMED_TAGS = frozenset({ON_HOLD})
"""Tags that need an end date."""

TagName = Annotated[str, StringConstraints(pattern=TAG_PATTERN, min_length=2, max_length=40)]
"""A tag: 2 to 40 characters, a lowercase letter then lowercase letters, digits or ``_``."""


def is_tag_name(value: str) -> bool:
    return bool(_TAG.match(value))
