"""Indexes the analytics queries and the CSV export read through, on other areas' tables.

Declared here (and created by ``_upgrade_analytics``) so the models and the migrated schema
agree, while the tables stay defined by the areas that write them.
"""

from __future__ import annotations

import sqlalchemy as sa

from pipeline.applications.models import Application, StageChange
from pipeline.results.models import Result

# An application's history in order, with its stages and stay starts, so one application's
# history (the candidate's view, the history route) is read index-only. The analytics no longer
# read the history per application: see ``reached_stages`` and the stays index below.
STAGE_CHANGES_BY_APPLICATION_TIME = sa.Index(
    "ix_stage_changes_application_id_occurred_at_id",
    StageChange.application_id,
    StageChange.occurred_at,
    StageChange.id,
    postgresql_include=["from_stage", "to_stage", "from_stage_entered_at"],
)
# A job's stays by stage with their lengths: the time-in-stage percentiles read a group's stays
# index-only (and percentile_cont sorts them).
STAYS_BY_JOB_STAGE = sa.Index(
    "ix_stage_changes_job_id_from_stage_stay_seconds",
    StageChange.job_id,
    StageChange.from_stage,
    StageChange.stay_seconds,
    postgresql_where=sa.text("stay_seconds IS NOT NULL"),
)
# A job's applications by creation (period filters, the export's keyset order).
APPLICATIONS_BY_JOB_CREATION = sa.Index(
    "ix_applications_job_id_created_at_id",
    Application.job_id,
    Application.created_at,
    Application.id,
)
# Every visible application by creation (the export over all jobs, overall periods).
APPLICATIONS_BY_CREATION = sa.Index(
    "ix_applications_created_at_id", Application.created_at, Application.id
)
# The first released result after a moment (time from AI interview to first notice).
RESULTS_RELEASED = sa.Index(
    "ix_results_application_id_released_at",
    Result.application_id,
    Result.released_at,
    postgresql_where=sa.text("released_at IS NOT NULL"),
)
