"""Problems of tags and tag rules."""

from __future__ import annotations

from shared.problems import Problem, conflict


def invalid_field(
    field: str, message: str, *, location: str = "body", code: str = "value_error"
) -> Problem:
    """A 422 shaped like request validation's, for a check the schema cannot make alone."""
    return Problem(
        422,
        "Invalid request",
        f"1 invalid field(s): {location}.{field}: {message}",
        slug="validation-error",
        errors=[{"field": field, "location": location, "message": message, "code": code}],
    )


def built_in_rule(detail: str) -> Problem:
    return conflict(detail, slug="built-in-rule")


def rule_name_taken(name: str) -> Problem:
    return conflict(f"A tag rule named {name!r} exists already.", slug="rule-name-taken")
