"""The analytics answers, shaped for a dashboard: one ``scope`` block saying what was counted,
then rows in display order (the job's stage order, or stage kinds by their usual position)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

GroupBy = Literal["stage", "kind"]


class ScopeOut(BaseModel):
    job_id: uuid.UUID | None = Field(
        description="The job counted, or null for every job the caller may see.",
        examples=["0193a1b2-7c3d-7e4f-8a9b-0c1d2e3f4a5b"],
    )
    period_from: datetime | None = Field(
        description="Only applications created at or after this moment (null: no lower bound).",
        examples=["2025-01-01T00:00:00+08:00"],
    )
    period_to: datetime | None = Field(
        description="Only applications created before this moment (null: no upper bound).",
        examples=["2025-04-01T00:00:00+08:00"],
    )
    group_by: GroupBy = Field(
        description="`stage`: one row per stage of the job (with `job_id`); `kind`: one row per "
        "stage kind across jobs (without).",
        examples=["stage"],
    )
    applications: int = Field(description="Applications in scope.", examples=[1250])
    generated_at: datetime = Field(examples=["2025-03-05T09:30:00+00:00"])


class StageLabel(BaseModel):
    key: str = Field(
        description="The stage's key (per job) or the stage kind (overall).", examples=["round_1"]
    )
    kind: str = Field(examples=["interview"])
    name_zh: str | None = Field(description="Null when grouped by kind.", examples=["一面"])
    name_en: str | None = Field(description="Null when grouped by kind.", examples=["First round"])
    position: int = Field(
        description="1-based position in the job's stages (by kind: the earliest position a "
        "stage of that kind has in any job).",
        examples=[2],
    )


class EndedHere(BaseModel):
    rejected: int = Field(examples=[40])
    withdrawn: int = Field(examples=[6])
    hired: int = Field(examples=[0])


class FunnelStage(StageLabel):
    reached: int = Field(
        description="Applications that entered this stage at some time (every application "
        "reached its job's first stage).",
        examples=[800],
    )
    in_stage_now: int = Field(description="Active applications in this stage now.", examples=[95])
    ended_here: EndedHere = Field(
        description="Applications whose current stage is this one and that are no longer active."
    )
    conversion_from_previous: float | None = Field(
        description="reached / reached of the previous row; null for the first row or when the "
        "previous row reached none. Above 1 when applications skipped the previous stage.",
        examples=[0.64],
    )


class Funnel(BaseModel):
    scope: ScopeOut
    stages: list[FunnelStage]


class TimeInStage(StageLabel):
    completed_stays: int = Field(
        description="Stays that ended (moved on, rejected, withdrawn or hired).", examples=[700]
    )
    open_stays: int = Field(
        description="Active applications in the stage now (not in the percentiles).",
        examples=[95],
    )
    median_seconds: float | None = Field(
        description="Median length of a completed stay; null without one.", examples=[183600.0]
    )
    p90_seconds: float | None = Field(
        description="90th percentile (interpolated) of a completed stay's length.",
        examples=[432000.0],
    )


class TimeInStages(BaseModel):
    scope: ScopeOut
    stages: list[TimeInStage]


class SlaStage(StageLabel):
    sla_days: int | None = Field(
        description="The stage's SLA in business days; null when grouped by kind.", examples=[3]
    )
    open_stays: int = Field(description="Active applications in the stage now.", examples=[95])
    breached_now: int = Field(
        description="Of those, how many are past the stage's SLA now.", examples=[12]
    )
    completed_stays: int = Field(examples=[700])
    breached_past: int = Field(
        description="Completed stays that ended after their SLA's due day.", examples=[60]
    )


class SlaTotals(BaseModel):
    open_stays: int = Field(examples=[300])
    breached_now: int = Field(examples=[31])
    completed_stays: int = Field(examples=[2400])
    breached_past: int = Field(examples=[190])


class SlaBreaches(BaseModel):
    scope: ScopeOut
    timezone: str = Field(
        description="Days are counted in this time zone.", examples=["Asia/Shanghai"]
    )
    calendar_unknown_years: list[int] = Field(
        description="Years in range whose official holidays the built-in calendar does not know; "
        "only weekends and `calendar_days` overrides count as days off there.",
        examples=[[2027]],
    )
    totals: SlaTotals
    stages: list[SlaStage]


class Durations(BaseModel):
    median_seconds: float | None = Field(examples=[5400.0])
    p90_seconds: float | None = Field(examples=[86400.0])


class FirstNotice(Durations):
    completed: int = Field(description="Completed AI interviews.", examples=[480])
    notified: int = Field(
        description="Of those, how many had a result released to the candidate after it.",
        examples=[450],
    )
    awaiting_notice: int = Field(
        description="Completed AI interviews with no result released since.", examples=[30]
    )


class AiInterviews(BaseModel):
    scope: ScopeOut
    invited: int = Field(description="AI interviews the vendors reported.", examples=[600])
    completed: int = Field(examples=[480])
    expired_without_completion: int = Field(examples=[90])
    pending: int = Field(description="Neither completed nor expired yet.", examples=[30])
    completion_rate: float | None = Field(
        description="completed / invited; null when none were invited.", examples=[0.8]
    )
    no_show_rate: float | None = Field(
        description="expired_without_completion / invited.", examples=[0.15]
    )
    time_to_first_notice: FirstNotice = Field(
        description="From the AI interview's completion to the first result released to the "
        "candidate after it."
    )


class NoShowRate(BaseModel):
    reached: int = Field(
        description="Applications that reached a stage of this kind.", examples=[120]
    )
    no_shows: int = Field(
        description="Of those, how many have a no-show of this kind recorded.", examples=[9]
    )
    rate: float | None = Field(description="no_shows / reached.", examples=[0.075])


class PolicyNoShows(BaseModel):
    policy_mode: Literal["immediate", "approval"] = Field(examples=["approval"])
    interview: NoShowRate
    offer: NoShowRate


class NoShowsByPolicy(BaseModel):
    scope: ScopeOut
    policies: list[PolicyNoShows] = Field(
        description="One row per result-release policy mode, `immediate` first."
    )
