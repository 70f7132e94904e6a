"""Problems of jobs and of adding applications to them."""

from __future__ import annotations

from shared.problems import Problem, conflict


def invalid_field(field: str, message: str, *, code: str = "value_error") -> Problem:
    """A 422 shaped like request validation's, for a rule only the database can check."""
    return Problem(
        422,
        "Invalid request",
        f"1 invalid field(s): body.{field}",
        slug="validation-error",
        errors=[{"field": field, "location": "body", "message": message, "code": code}],
    )


def job_closed() -> Problem:
    return conflict("The job is closed and takes no new applications.", slug="job-closed")
