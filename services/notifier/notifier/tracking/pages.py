"""What the tracking routes show a person or a mail client: the open pixel and the small
unsubscribe pages, in Chinese or English as the browser asks (``Accept-Language``).

The pages are plain HTML with inline style and no script, so the strict content security
policy of ``PAGE_HEADERS`` holds; everything inserted is escaped.
"""

from __future__ import annotations

from html import escape
from typing import Literal

Locale = Literal["zh-CN", "en"]

# A 1x1 GIF whose only pixel is transparent (43 bytes, the smallest well-formed one).
PIXEL_GIF = (
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff"
    b"!\xf9\x04\x01\x00\x00\x00\x00"
    b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
)

# The page carries a token that unsubscribes: no cache may keep it, no link from it may leak
# it in a Referer, no search engine may index it and no other site may frame it.
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
}

KIND_LABELS: dict[str, dict[Locale, str]] = {
    "stage_passed": {"zh-CN": "流程进展", "en": "application progress"},
    "offer": {"zh-CN": "录用通知", "en": "offer"},
    "rejected": {"zh-CN": "申请结果", "en": "application decision"},
    "result_under_review": {"zh-CN": "结果审核中", "en": "result under review"},
    "approval_requested": {"zh-CN": "审批请求", "en": "approval request"},
    "interview_invitation": {"zh-CN": "面试邀请", "en": "interview invitation"},
    "ai_interview_invitation": {"zh-CN": "AI 面试邀请", "en": "AI interview invitation"},
    "invitation_reminder": {"zh-CN": "邀请截止提醒", "en": "invitation deadline reminder"},
    "invite_expired": {"zh-CN": "邀请过期", "en": "expired invitation"},
    "interview_booked": {"zh-CN": "面试安排", "en": "interview booking"},
    "interview_cancelled": {"zh-CN": "面试取消", "en": "interview cancellation"},
    "interview_reminder": {"zh-CN": "面试提醒", "en": "interview reminder"},
    "message_from_hr": {"zh-CN": "HR 消息", "en": "message from HR"},
    "message_from_candidate": {"zh-CN": "候选人消息", "en": "message from a candidate"},
    "message_unanswered": {"zh-CN": "消息待回复", "en": "unanswered message"},
    "human_review_requested": {"zh-CN": "人工复核请求", "en": "human review request"},
    "unread_follow_up": {"zh-CN": "未读跟进", "en": "unread follow-up"},
}

_TEXT: dict[Locale, dict[str, str]] = {
    "zh-CN": {
        "title": "退订通知",
        "ask_kind": "确认后，您将不再通过邮件或短信收到「{label}」类通知。",  # noqa: RUF001
        "ask_all": "确认后，您将不再通过邮件或短信收到我们的任何通知。",  # noqa: RUF001
        "inbox": "站内消息仍会保留在您的消息中心。",
        "button": "确认退订",
        "done_title": "已退订",
        "done_kind": "您已退订「{label}」类通知的邮件和短信。",
        "done_all": "您已退订我们所有通知的邮件和短信。",
    },
    "en": {
        "title": "Unsubscribe",
        "ask_kind": "Once you confirm, you will no longer get “{label}” notices by email or "
        "text message.",
        "ask_all": "Once you confirm, you will no longer get any of our notices by email or "
        "text message.",
        "inbox": "They will still appear in your in-app inbox.",
        "button": "Unsubscribe",
        "done_title": "Unsubscribed",
        "done_kind": "You are unsubscribed from “{label}” notices by email and text message.",
        "done_all": "You are unsubscribed from all our notices by email and text message.",
    },
}


def negotiate_locale(accept_language: str | None, default: str) -> Locale:
    """The supported language the browser prefers most (``zh*`` is zh-CN, ``en*`` is en);
    ``default`` when it names neither."""
    best: tuple[float, int, Locale] | None = None
    for position, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        locale = _supported(tag.strip().lower())
        if locale is None:
            continue
        quality = _quality(params)
        if quality <= 0:
            continue
        # Higher quality first; at equal quality, the one listed first.
        candidate = (quality, -position, locale)
        if best is None or candidate[:2] > best[:2]:
            best = candidate
    if best is not None:
        return best[2]
    return "en" if default == "en" else "zh-CN"


def _supported(tag: str) -> Locale | None:
    if tag == "zh" or tag.startswith("zh-"):
        return "zh-CN"
    if tag == "en" or tag.startswith("en-"):
        return "en"
    return None


def _quality(params: str) -> float:
    for param in params.split(";"):
        name, _, value = param.strip().partition("=")
        if name.strip().lower() == "q":
            try:
                return max(0.0, min(1.0, float(value.strip())))
            except ValueError:
                return 0.0
    return 1.0


def kind_label(kind: str, locale: Locale) -> str:
    return KIND_LABELS.get(kind, {}).get(locale, kind)


def _page(locale: Locale, title: str, body: str) -> str:
    return (
        "<!doctype html>\n"
        f'<html lang="{locale}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="robots" content="noindex, nofollow">'
        f"<title>{escape(title)}</title>"
        "<style>body{font-family:system-ui,-apple-system,'PingFang SC','Microsoft YaHei',"
        "sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;line-height:1.6;"
        "color:#1f2328}button{font:inherit;padding:.5rem 1.25rem;border:0;border-radius:.375rem;"
        "background:#1f6feb;color:#fff;cursor:pointer}</style></head>"
        f"<body><main><h1>{escape(title)}</h1>{body}</main></body></html>\n"
    )


def unsubscribe_form(kind: str | None, locale: Locale) -> str:
    """The page an unsubscribe link opens: what confirming does, and a button that POSTs the
    RFC 8058 one-click body to the same address."""
    text = _TEXT[locale]
    ask = (
        text["ask_all"] if kind is None else text["ask_kind"].format(label=kind_label(kind, locale))
    )
    body = (
        f"<p>{escape(ask)}</p><p>{escape(text['inbox'])}</p>"
        '<form method="post">'
        '<input type="hidden" name="List-Unsubscribe" value="One-Click">'
        f'<button type="submit">{escape(text["button"])}</button></form>'
    )
    return _page(locale, text["title"], body)


def unsubscribed(kind: str | None, locale: Locale) -> str:
    """The confirmation after unsubscribing."""
    text = _TEXT[locale]
    done = (
        text["done_all"]
        if kind is None
        else text["done_kind"].format(label=kind_label(kind, locale))
    )
    body = f"<p>{escape(done)}</p><p>{escape(text['inbox'])}</p>"
    return _page(locale, text["done_title"], body)
