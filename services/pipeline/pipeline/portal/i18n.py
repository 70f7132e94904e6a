"""The candidate's language (zh-CN or en, from ``Accept-Language``) and the texts shown in it."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

from shared.calendar import DEFAULT_TZ

Locale = Literal["zh-CN", "en"]
DEFAULT_LOCALE: Locale = "zh-CN"


def negotiate(accept_language: str | None) -> Locale:
    """The best of zh-CN and en for an ``Accept-Language`` header; zh-CN when neither is asked
    for (or the header is missing or malformed)."""
    return requested(accept_language) or DEFAULT_LOCALE


def requested(accept_language: str | None) -> Locale | None:
    """The best of zh-CN and en for an ``Accept-Language`` header; None when it asks for
    neither (or is missing or malformed)."""
    if not accept_language:
        return None
    best: tuple[float, int, Locale] | None = None
    for position, part in enumerate(accept_language.split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                quality = float(params[2:])
            except ValueError:
                continue
        language = tag.strip().lower().split("-")[0]
        locale: Locale | None = {"zh": "zh-CN", "en": "en"}.get(language)  # type: ignore[assignment]
        if locale is None or quality <= 0:
            continue
        # Higher quality wins; at equal quality the earlier one.
        if best is None or (quality, -position) > (best[0], -best[1]):
            best = (quality, position, locale)
    return best[2] if best else None


STATUS: dict[str, dict[Locale, str]] = {
    "active": {"zh-CN": "进行中", "en": "In progress"},
    "rejected": {"zh-CN": "未通过", "en": "Not selected"},
    "withdrawn": {"zh-CN": "已撤回", "en": "Withdrawn"},
    "hired": {"zh-CN": "已录用", "en": "Hired"},
}

AI_INTERVIEW_STATUS: dict[str, dict[Locale, str]] = {
    "invited": {"zh-CN": "已邀请", "en": "Invited"},
    "opened": {"zh-CN": "已打开", "en": "Opened"},
    "started": {"zh-CN": "进行中", "en": "In progress"},
    "completed": {"zh-CN": "已完成", "en": "Completed"},
    "report_ready": {"zh-CN": "已完成", "en": "Completed"},
    "expired": {"zh-CN": "已过期", "en": "Expired"},
}


def label(table: dict[str, dict[Locale, str]], key: str, locale: Locale) -> str:
    return table.get(key, {}).get(locale, key)


def under_review(expected_by: datetime | None, locale: Locale) -> str:
    if expected_by is None:
        return "结果审核中" if locale == "zh-CN" else "Under review"
    local = expected_by.astimezone(ZoneInfo(DEFAULT_TZ))
    if locale == "zh-CN":
        return f"结果审核中，预计 {local:%Y-%m-%d %H:%M} 前告知"  # noqa: RUF001
    return f"Under review, expected by {local:%Y-%m-%d %H:%M} (China time)"
