"""Compiling, checking and rendering message templates: pure functions over sources and data,
with no database in them.

Templates are Jinja2 run in an immutable sandbox (no attribute starting with ``_``, no
mutation of the data, no loader, so no ``include`` or ``extends``) with ``StrictUndefined``:
a variable a template names but the data lacks is an error, never an empty string that would
send "Dear ," to ten thousand people. Only the HTML part is autoescaped. The filters show
times, stages, kinds and channels in the message's locale.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import get_timezone_name
from jinja2 import (
    StrictUndefined,
    Template,
    TemplateSyntaxError,
    UndefinedError,
    meta,
    nodes,
    pass_context,
)
from jinja2.exceptions import SecurityError, TemplateRuntimeError
from jinja2.filters import do_center, do_format, do_indent, do_slice
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment

from notifier.kinds import LOCALES, Kind

DEFAULT_LOCALE = "zh-CN"

# The parts a channel's template has, and those it must have.
CHANNEL_PARTS: dict[str, tuple[str, ...]] = {
    "email": ("subject", "body", "html"),
    "in_app": ("subject", "body"),
    "sms": ("body",),
    "chat": ("body",),
}
REQUIRED_PARTS: dict[str, tuple[str, ...]] = {
    "email": ("subject", "body"),
    "in_app": ("subject", "body"),
    "sms": ("body",),
    "chat": ("body",),
}

# Bounds on what a template may make, so that one careless (or hostile) edit cannot stall the
# dispatcher or exhaust its memory: numbers passed to calls and operators, ``range``, and the
# size of what comes out.
MAX_ARGUMENT = 10_000
MAX_RANGE = 1_000
MAX_OUTPUT_CHARS = 500_000
# Names Jinja provides itself that a template may use without declaring them.
# (``loop``, ``caller`` and the like are declared by their for loop or macro, and unknown
# outside them.)
_PROVIDED_NAMES = frozenset({"range", "namespace"})


class TemplateRenderError(Exception):
    """A template could not be rendered with the data it was given. The message says where
    (part and line) and why, and never contains the data's values."""

    def __init__(self, reason: str, *, part: str | None = None, line: int | None = None) -> None:
        where = part if line is None else f"{part} line {line}"
        super().__init__(f"{where}: {reason}" if part else reason)
        self.reason = reason
        self.part = part
        self.line = line


class _FilterError(TemplateRuntimeError):
    """Raised by our filters; its message is ours and carries no values, so it may be shown."""


@dataclass(frozen=True)
class Source:
    """A template's text: ``body`` is the plain text (Markdown for chat); ``subject`` is for
    email and in-app, ``html`` for email only."""

    subject: str | None
    body: str
    html: str | None = None

    def parts(self) -> dict[str, str]:
        found = {"subject": self.subject, "body": self.body, "html": self.html}
        return {name: text for name, text in found.items() if text is not None}


@dataclass(frozen=True)
class TemplateProblem:
    """Why a template source is refused: the part (subject, body or html), the line in that
    part when there is one, a message for the person editing it and a code for programs."""

    field: str
    line: int | None
    message: str
    # missing_part, part_not_allowed, syntax_error, tag_not_allowed, unknown_filter,
    # unknown_test, unknown_variable or render_failed.
    code: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}" if self.line is not None else self.message


@dataclass(frozen=True)
class RenderedParts:
    subject: str | None
    text: str
    html: str | None


# ---------------------------------------------------------------------------------------------
# Locales, times and words


def resolve_locale(locale: str | None) -> str:
    """One of ``LOCALES``: ``en-US`` and ``en_GB`` are ``en``, ``zh``, ``zh-Hans`` are
    ``zh-CN``; anything else falls back to zh-CN."""
    if locale in LOCALES:
        return locale
    language = (locale or "").replace("_", "-").split("-", 1)[0].lower()
    return "en" if language == "en" else DEFAULT_LOCALE


_WEEKDAYS = {
    "zh-CN": ("周一", "周二", "周三", "周四", "周五", "周六", "周日"),
    "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
}
_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
# The zones people in China call Beijing time.
_EN_DASH = "\u2013"
_BEIJING = frozenset({"Asia/Shanghai", "Asia/Chongqing", "Asia/Harbin", "PRC"})

KIND_NAMES: dict[str, dict[str, str]] = {
    "stage_passed": {"zh-CN": "环节通过通知", "en": "stage passed notice"},
    "offer": {"zh-CN": "录用通知", "en": "offer notice"},
    "rejected": {"zh-CN": "结果通知", "en": "application result"},
    "result_under_review": {"zh-CN": "结果审核中通知", "en": "result under review notice"},
    "approval_requested": {"zh-CN": "审批请求", "en": "approval request"},
    "interview_invitation": {"zh-CN": "面试邀请", "en": "interview invitation"},
    "ai_interview_invitation": {"zh-CN": "AI 面试邀请", "en": "AI interview invitation"},
    "invitation_reminder": {"zh-CN": "邀请截止提醒", "en": "invitation deadline reminder"},
    "invite_expired": {"zh-CN": "邀请过期通知", "en": "invitation expired notice"},
    "interview_booked": {"zh-CN": "面试确认", "en": "interview confirmation"},
    "interview_cancelled": {"zh-CN": "面试取消通知", "en": "interview cancellation"},
    "interview_reminder": {"zh-CN": "面试提醒", "en": "interview reminder"},
    "message_from_hr": {"zh-CN": "招聘团队消息", "en": "message from the recruiting team"},
    "message_from_candidate": {"zh-CN": "候选人消息", "en": "message from a candidate"},
    "message_unanswered": {"zh-CN": "消息待回复提醒", "en": "unanswered message alert"},
    "human_review_requested": {"zh-CN": "人工复核请求", "en": "human review request"},
    "unread_follow_up": {"zh-CN": "未读跟进提醒", "en": "unread follow-up"},
}
CHANNEL_NAMES: dict[str, dict[str, str]] = {
    "email": {"zh-CN": "邮件", "en": "email"},
    "sms": {"zh-CN": "短信", "en": "text message"},
    "in_app": {"zh-CN": "站内消息", "en": "in-app message"},
    "chat": {"zh-CN": "聊天机器人", "en": "chat"},
    "webhook": {"zh-CN": "Webhook", "en": "webhook"},
}
# Stage keys are each job's own; these are the ones the suite's examples and most teams use.
# Any other key is shown with its underscores as spaces.
_STAGE_NAMES: dict[str, dict[str, str]] = {
    "application": {"zh-CN": "投递", "en": "application"},
    "screening": {"zh-CN": "简历筛选", "en": "screening"},
    "resume_screening": {"zh-CN": "简历筛选", "en": "résumé screening"},
    "phone_screen": {"zh-CN": "电话沟通", "en": "phone screen"},
    "ai_interview": {"zh-CN": "AI 面试", "en": "AI interview"},
    "assessment": {"zh-CN": "测评", "en": "assessment"},
    "written_test": {"zh-CN": "笔试", "en": "written test"},
    "evaluation": {"zh-CN": "评估", "en": "evaluation"},
    "interview": {"zh-CN": "面试", "en": "interview"},
    "hr_interview": {"zh-CN": "HR 面试", "en": "HR interview"},
    "final_interview": {"zh-CN": "终面", "en": "final interview"},
    "final_round": {"zh-CN": "终面", "en": "final round"},
    "background_check": {"zh-CN": "背景调查", "en": "background check"},
    "offer": {"zh-CN": "录用", "en": "offer"},
    "hired": {"zh-CN": "入职", "en": "onboarding"},
}
_ROUND = re.compile(r"^round_?(\d{1,2})$")
_ZH_ORDINALS = ("一", "二", "三", "四", "五", "六", "七", "八", "九", "十")
_EN_ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth")
_DURATION = re.compile(r"(\d{1,4})\s*([dhm])")
_ZH_UNITS = {"d": "天", "h": "小时", "m": "分钟"}
_EN_UNITS = {"d": ("day", "days"), "h": ("hour", "hours"), "m": ("minute", "minutes")}


def _locale_of(context: Context, locale: str | None) -> str:
    return resolve_locale(locale if locale is not None else context.get("locale"))


def _moment(value: object, name: str) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            raise _FilterError(f"{name} needs an RFC 3339 time; the value is not one.") from None
        return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    raise _FilterError(f"{name} needs an RFC 3339 time; the value is a {type(value).__name__}.")


@functools.lru_cache(maxsize=256)
def _zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise _FilterError("The time zone is not a known IANA zone name.") from None


def _local(context: Context, value: object, time_zone: str | None, name: str) -> datetime | None:
    moment = _moment(value, name)
    if moment is None:
        return None
    zone_name = time_zone if time_zone is not None else context.get("time_zone")
    if not zone_name:
        # No zone to show it in: as its producer wrote it (RFC 3339 carries the offset).
        return moment
    if not isinstance(zone_name, str):
        raise _FilterError(f"{name} needs the time zone as an IANA name.")
    return moment.astimezone(_zone(zone_name))


def _hhmm(moment: datetime) -> str:
    return f"{moment.hour:02d}:{moment.minute:02d}"  # strftime is several times slower


def _day_text(moment: datetime, locale: str) -> str:
    weekday = _WEEKDAYS[locale][moment.weekday()]
    if locale == "en":
        return f"{weekday} {moment.day} {_MONTHS_EN[moment.month - 1]} {moment.year}"
    return f"{moment.year}年{moment.month}月{moment.day}日 {weekday}"


def _when_text(moment: datetime, locale: str) -> str:
    separator = ", " if locale == "en" else " "
    return f"{_day_text(moment, locale)}{separator}{_hhmm(moment)}"


@pass_context
def when(
    context: Context, value: object, time_zone: str | None = None, locale: str | None = None
) -> str:
    """An RFC 3339 time (or a datetime) as a reader's local time: ``2026年12月1日 周二 10:00``
    or ``Tue 1 Dec 2026, 10:00``. The zone and locale default to the template's ``time_zone``
    and ``locale`` variables; with no zone, the time is shown at its own offset. An empty
    value gives an empty string."""
    moment = _local(context, value, time_zone, "when")
    return "" if moment is None else _when_text(moment, _locale_of(context, locale))


@pass_context
def day(
    context: Context, value: object, time_zone: str | None = None, locale: str | None = None
) -> str:
    """The date alone, with its weekday: ``2026年12月1日 周二`` or ``Tue 1 Dec 2026``."""
    moment = _local(context, value, time_zone, "day")
    return "" if moment is None else _day_text(moment, _locale_of(context, locale))


@pass_context
def clock(context: Context, value: object, time_zone: str | None = None) -> str:
    """The time of day alone, 24-hour: ``10:00``."""
    moment = _local(context, value, time_zone, "clock")
    return "" if moment is None else _hhmm(moment)


@pass_context
def span(
    context: Context,
    start: object,
    end: object,
    time_zone: str | None = None,
    locale: str | None = None,
) -> str:
    """A start and an end: ``2026年12月1日 周二 10:00`` to ``10:45`` joined by an en dash on one
    day, both in full across days."""
    first = _local(context, start, time_zone, "span")
    last = _local(context, end, time_zone, "span")
    shown = _locale_of(context, locale)
    if first is None:
        return ""
    if last is None:
        return _when_text(first, shown)
    if first.date() == last.date():
        return f"{_when_text(first, shown)}{_EN_DASH}{_hhmm(last)}"
    return f"{_when_text(first, shown)} {_EN_DASH} {_when_text(last, shown)}"


@functools.lru_cache(maxsize=256)
def _zone_name(name: str, locale: str) -> str:
    if name in ("UTC", "Etc/UTC", "Etc/GMT", "GMT", "Z"):
        return "UTC"
    if locale == "zh-CN" and name in _BEIJING:
        return "北京时间"
    zone = _zone(name)
    return str(get_timezone_name(zone, "long", locale="zh_CN" if locale == "zh-CN" else "en"))


@pass_context
def zone(context: Context, time_zone: object, locale: str | None = None) -> str:
    """A zone's name for readers: ``北京时间``, ``China Time``, ``Central European Time``."""
    if time_zone is None or time_zone == "":
        return ""
    if not isinstance(time_zone, str):
        raise _FilterError("zone needs the time zone as an IANA name.")
    return _zone_name(time_zone, _locale_of(context, locale))


@pass_context
def stage_name(context: Context, key: object, locale: str | None = None) -> str:
    """A stage key in words: ``round_2`` is 二面 or "second-round interview"; keys it does not
    know are shown with spaces for underscores."""
    if key is None or key == "":
        return ""
    text = str(key)
    shown = _locale_of(context, locale)
    known = _STAGE_NAMES.get(text)
    if known is not None:
        return known[shown]
    match = _ROUND.match(text)
    if match is not None:
        number = int(match.group(1))
        if shown == "zh-CN":
            return f"{_ZH_ORDINALS[number - 1]}面" if 1 <= number <= 10 else f"第{number}轮面试"
        if 1 <= number <= len(_EN_ORDINALS):
            return f"{_EN_ORDINALS[number - 1]}-round interview"
        return f"round {number} interview"
    return text.replace("_", " ")


@pass_context
def kind_name(context: Context, kind: object, locale: str | None = None) -> str:
    """A notification kind in words: ``interview_invitation`` is 面试邀请."""
    names = KIND_NAMES.get(str(kind))
    return names[_locale_of(context, locale)] if names else str(kind).replace("_", " ")


@pass_context
def channel_names(context: Context, channels: object, locale: str | None = None) -> str:
    """Channels in words, joined as a reader would: 站内消息、短信 or "in-app message and text
    message". Takes one channel or a list."""
    shown = _locale_of(context, locale)
    items = [channels] if isinstance(channels, str) else list(_iterable(channels, "channel_names"))
    words = [CHANNEL_NAMES.get(str(c), {}).get(shown, str(c)) for c in items]
    if shown == "zh-CN":
        return "、".join(words)
    if len(words) <= 2:
        return " and ".join(words)
    return f"{', '.join(words[:-1])} and {words[-1]}"


@pass_context
def duration(context: Context, value: object, locale: str | None = None) -> str:
    """A reminder offset such as ``1d``, ``2h``, ``30m`` or ``1d12h`` in words: 2 小时,
    "2 hours"."""
    text = str(value).strip().lower() if value is not None else ""
    found = _DURATION.findall(text)
    if not found or _DURATION.sub("", text).strip():
        raise _FilterError("duration needs a value such as 1d, 2h or 30m.")
    shown = _locale_of(context, locale)
    words = []
    for amount, unit in found:
        count = int(amount)
        if shown == "zh-CN":
            words.append(f"{count} {_ZH_UNITS[unit]}")
        else:
            singular, plural = _EN_UNITS[unit]
            words.append(f"{count} {singular if count == 1 else plural}")
    return " ".join(words)


# Full stops, exclamation marks, semicolons and commas, Chinese (full-width) and Latin.
_TRAILING_PUNCTUATION = "\u3002\uff0e.\uff01!\uff1b;\uff0c,\u3001 \t\r\n"


def clause(value: object) -> str:
    """Free text to be followed by our own punctuation: without its trailing full stop, so a
    reason written as a sentence does not end up with two."""
    return "" if value is None else str(value).rstrip(_TRAILING_PUNCTUATION)


def _iterable(value: object, name: str) -> Iterable[Any]:
    if isinstance(value, Iterable) and not isinstance(value, str | bytes | Mapping):
        return value
    raise _FilterError(f"{name} needs a list.")


# ---------------------------------------------------------------------------------------------
# The sandbox


def _bounded_range(*args: int) -> range:
    numbers = range(*args)
    if len(numbers) > MAX_RANGE:
        raise SecurityError(f"range() may make at most {MAX_RANGE} numbers.")
    return numbers


def _check_numbers(values: Iterable[object]) -> None:
    for value in values:
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_ARGUMENT:
            raise SecurityError(f"Numbers above {MAX_ARGUMENT} may not be passed here.")


def _bounded(function: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        _check_numbers(args[1:])
        _check_numbers(kwargs.values())
        return function(*args, **kwargs)

    return wrapper


_WIDE_FORMAT = re.compile(r"%[-#0 +]*(?:\*|\d{5,})|%[-#0 +]*\d*\.(?:\*|\d{5,})")


def _bounded_format(value: str, *args: Any, **kwargs: Any) -> str:
    if _WIDE_FORMAT.search(str(value)):
        raise SecurityError("Format widths above 9999 are not allowed.")
    _check_numbers(args)
    return do_format(value, *args, **kwargs)


class _Sandbox(ImmutableSandboxedEnvironment):
    """The immutable sandbox, with bounds on repetition and powers (``'x' * 10**9``) and on
    the numbers given to methods (``name.center(10**9)``)."""

    intercepted_binops = frozenset({"*", "**", "%"})

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        if operator == "**":
            _check_numbers([left])
            if isinstance(right, int | float) and abs(right) > 64:
                raise SecurityError("Powers above 64 are not allowed.")
        elif operator == "*":
            if isinstance(left, str | list | tuple) or isinstance(right, str | list | tuple):
                _check_numbers([left, right])
        elif operator == "%" and isinstance(left, str) and _WIDE_FORMAT.search(left):
            raise SecurityError("Format widths above 9999 are not allowed.")
        return super().call_binop(context, operator, left, right)

    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805
        _check_numbers(args)
        _check_numbers(kwargs.values())
        return super().call(__context, __obj, *args, **kwargs)


def _environment(*, autoescape: bool) -> _Sandbox:
    environment = _Sandbox(
        undefined=StrictUndefined,
        autoescape=autoescape,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        auto_reload=False,
        cache_size=0,
    )
    environment.globals = {"range": _bounded_range, "namespace": environment.globals["namespace"]}
    environment.filters.update(
        {
            "when": when,
            "day": day,
            "clock": clock,
            "span": span,
            "zone": zone,
            "stage_name": stage_name,
            "kind_name": kind_name,
            "channel_names": channel_names,
            "duration": duration,
            "clause": clause,
            "center": _bounded(do_center),
            "indent": _bounded(do_indent),
            "slice": _bounded(do_slice),
            "format": _bounded_format,
        }
    )
    return environment


_TEXT = _environment(autoescape=False)
_HTML = _environment(autoescape=True)
FILTERS = frozenset(_TEXT.filters)


def _environment_for(part: str) -> _Sandbox:
    return _HTML if part == "html" else _TEXT


# ---------------------------------------------------------------------------------------------
# Compiling and rendering


@dataclass(frozen=True)
class CompiledTemplate:
    """A source compiled once and rendered for every message that uses it."""

    subject: Template | None
    body: Template
    html: Template | None

    def render(self, variables: Mapping[str, Any]) -> RenderedParts:
        return RenderedParts(
            subject=_single_line(_render(self.subject, "subject", variables))
            if self.subject is not None
            else None,
            text=_tidy_text(_render(self.body, "body", variables)),
            html=_render(self.html, "html", variables).strip() if self.html is not None else None,
        )


def _compile_part(source: str, part: str) -> Template:
    environment = _environment_for(part)
    code = environment.compile(source, name=part, filename=part)
    return environment.template_class.from_code(environment, code, environment.make_globals(None))


def compile_source(source: Source) -> CompiledTemplate:
    """Compile each part. Raises ``TemplateRenderError`` for a source that does not compile
    (only a source that skipped ``validate`` can)."""
    try:
        return CompiledTemplate(
            subject=_compile_part(source.subject, "subject")
            if source.subject is not None
            else None,
            body=_compile_part(source.body, "body"),
            html=_compile_part(source.html, "html") if source.html is not None else None,
        )
    except TemplateSyntaxError as error:
        raise TemplateRenderError(
            error.message or "does not compile", part=error.name, line=error.lineno
        ) from None


def _render(template: Template, part: str, variables: Mapping[str, Any]) -> str:
    try:
        output = template.render(variables)
    except Exception as error:
        raise TemplateRenderError(
            _safe_reason(error, variables), part=part, line=_failing_line(error, part)
        ) from None
    if len(output) > MAX_OUTPUT_CHARS:
        raise TemplateRenderError(
            f"the output is longer than {MAX_OUTPUT_CHARS} characters", part=part
        )
    return output


def _failing_line(error: BaseException, part: str) -> int | None:
    # Jinja rewrites the traceback so that template frames carry the template's name as their
    # file and the template's line as their line.
    line = None
    traceback = error.__traceback__
    while traceback is not None:
        if traceback.tb_frame.f_code.co_filename == part:
            line = traceback.tb_lineno
        traceback = traceback.tb_next
    return line


def _safe_reason(error: BaseException, variables: Mapping[str, Any]) -> str:
    """Why rendering failed, in words that do not carry the data's values: the messages of
    undefined names, the sandbox, our filters and type errors name names and types, so they
    are kept unless a value of the data shows in them after all (``mapping[name]`` puts the
    key in the message); anything else is shown by its class alone."""
    generic = f"{type(error).__name__} while rendering"
    if isinstance(error, ZeroDivisionError):
        return "division by zero"
    if not isinstance(error, UndefinedError | SecurityError | _FilterError | TypeError):
        return generic
    reason = str(error)
    if any(value in reason for value in _texts(variables.values())):
        return generic
    return reason


def _texts(values: Iterable[Any], depth: int = 0) -> Iterator[str]:
    """The data's values as text, nested lists and mappings included (a few levels)."""
    for value in values:
        if isinstance(value, str | int | float) and not isinstance(value, bool):
            text = str(value)
            if len(text) >= 3:
                yield text
        elif depth < 3 and isinstance(value, Mapping):
            yield from _texts(value.values(), depth + 1)
        elif depth < 3 and isinstance(value, list | tuple):
            yield from _texts(value, depth + 1)


_BLANK_LINES = re.compile(r"\n{3,}")
_TRAILING_SPACE = re.compile(r"[ \t]+\n")
_WHITESPACE = re.compile(r"\s+")


def _tidy_text(text: str) -> str:
    """Conditional blocks leave stray blank lines; a message has at most one blank line in a
    row and none at either end."""
    text = text.replace("\r\n", "\n")
    if " \n" in text or "\t\n" in text:
        text = _TRAILING_SPACE.sub("\n", text)
    if "\n\n\n" in text:
        text = _BLANK_LINES.sub("\n\n", text)
    return text.strip()


def _single_line(text: str) -> str:
    # A subject is one line: a newline from the data must never reach a mail header.
    return _WHITESPACE.sub(" ", text).strip()


# ---------------------------------------------------------------------------------------------
# Validation


def validate(source: Source, *, kind: Kind, channel: str, locale: str) -> list[TemplateProblem]:
    """Every problem of a source for a kind and channel, empty when it may be saved: parts the
    channel lacks or does not take, syntax errors, tags the sandbox cannot run, unknown
    filters and unknown variables (each with its line), and, when all that is fine, a trial
    render with the kind's sample data (the first failure, with its line)."""
    problems: list[TemplateProblem] = []
    allowed_parts = CHANNEL_PARTS[channel]
    given = source.parts()
    for part in REQUIRED_PARTS[channel]:
        if not given.get(part, "").strip():
            message = f"{channel} templates need a {part}."
            problems.append(TemplateProblem(part, None, message, "missing_part"))
    for part in given:
        if part not in allowed_parts:
            message = f"{channel} templates have no {part}."
            problems.append(TemplateProblem(part, None, message, "part_not_allowed"))
    if problems:
        return problems
    known = set(kind.all_variables())
    for part, text in given.items():
        problems.extend(_check_part(text, part, known))
    if problems:
        return problems
    compiled = compile_source(source)
    sample = kind.sample_data()
    for variant in (0, 1, 2):
        try:
            compiled.render({**sample, "locale": locale, "variant": variant})
        except TemplateRenderError as error:
            reason = f"fails with the kind's sample data: {error.reason}"
            return [TemplateProblem(error.part or "body", error.line, reason, "render_failed")]
    return []


_FORBIDDEN_TAGS: dict[type[nodes.Node], str] = {
    nodes.Extends: "extends",
    nodes.Include: "include",
    nodes.Import: "import",
    nodes.FromImport: "import",
}


def _check_part(text: str, part: str, known: set[str]) -> list[TemplateProblem]:
    environment = _environment_for(part)
    try:
        tree = environment.parse(text, name=part)
    except TemplateSyntaxError as error:
        message = f"syntax error: {error.message}"
        return [TemplateProblem(part, error.lineno, message, "syntax_error")]
    problems = []
    for node in tree.find_all(tuple(_FORBIDDEN_TAGS)):
        name = _FORBIDDEN_TAGS[type(node)]
        message = f"'{name}' is not available here"
        problems.append(TemplateProblem(part, node.lineno, message, "tag_not_allowed"))
    for filter_node in tree.find_all(nodes.Filter):
        if filter_node.name not in environment.filters:
            message = f"unknown filter '{filter_node.name}'"
            problems.append(TemplateProblem(part, filter_node.lineno, message, "unknown_filter"))
    for test in tree.find_all(nodes.Test):
        if test.name not in environment.tests:
            message = f"unknown test '{test.name}'"
            problems.append(TemplateProblem(part, test.lineno, message, "unknown_test"))
    try:
        undeclared = meta.find_undeclared_variables(tree)
    except TemplateSyntaxError:
        # It stops at an unknown filter (reported above); estimate instead: every name read
        # and never assigned.
        assigned = {n.name for n in tree.find_all(nodes.Name) if n.ctx in ("store", "param")}
        read = {n.name for n in tree.find_all(nodes.Name) if n.ctx == "load"}
        undeclared = read - assigned - {"loop", "caller", "varargs", "kwargs"}
    unknown = undeclared - known - _PROVIDED_NAMES
    lines = _names_loaded_outside(tree, unknown)
    for name in sorted(unknown, key=lambda n: (lines.get(n, 0), n)):
        message = f"unknown variable '{name}'"
        problems.append(TemplateProblem(part, lines.get(name), message, "unknown_variable"))
    if not problems:
        try:
            environment.compile(tree, name=part, filename=part)
        except TemplateSyntaxError as error:
            message = f"syntax error: {error.message or 'does not compile'}"
            return [TemplateProblem(part, error.lineno, message, "syntax_error")]
    return sorted(problems, key=lambda p: p.line or 0)


def _names_loaded_outside(tree: nodes.Node, names: set[str]) -> dict[str, int]:
    """The first line each of ``names`` is read on where no enclosing for, macro, call block
    or with binds it."""
    found: dict[str, int] = {}
    for name, line in _loads(tree, names, frozenset()):
        found.setdefault(name, line)
    return found


def _loads(node: nodes.Node, names: set[str], bound: frozenset[str]) -> Iterator[tuple[str, int]]:
    if isinstance(node, nodes.Name):
        if node.ctx == "load" and node.name in names and node.name not in bound:
            yield node.name, node.lineno
        return
    if isinstance(node, nodes.For):
        yield from _loads(node.iter, names, bound)
        inner = bound | _stored(node.target) | {"loop"}
        for child in (*node.body, *([node.test] if node.test is not None else [])):
            yield from _loads(child, names, inner)
        for child in node.else_:
            yield from _loads(child, names, bound)
        return
    if isinstance(node, nodes.Macro | nodes.CallBlock):
        for default in node.defaults:
            yield from _loads(default, names, bound)
        if isinstance(node, nodes.CallBlock):
            yield from _loads(node.call, names, bound)
        inner = bound | {arg.name for arg in node.args} | {"caller", "varargs", "kwargs"}
        for child in node.body:
            yield from _loads(child, names, inner)
        return
    if isinstance(node, nodes.With):
        for value in node.values:
            yield from _loads(value, names, bound)
        inner = bound | {name for target in node.targets for name in _stored(target)}
        for child in node.body:
            yield from _loads(child, names, inner)
        return
    for child in node.iter_child_nodes():
        yield from _loads(child, names, bound)


def _stored(target: nodes.Node) -> frozenset[str]:
    return frozenset(name.name for name in target.find_all(nodes.Name)) | (
        frozenset({target.name}) if isinstance(target, nodes.Name) else frozenset()
    )
