"""The scoring engine: rules, a profile and activities in, an explained score out.

Decay: an activity `age` days old weighs 0.5 ** (age / half_life_days); activities
dated after `now` weigh 1, and a half-life of 0 turns decay off.

Caps: within one UTC day, ISO week (Monday to Sunday, UTC) or calendar month (UTC),
a kind earns at most `cap.points` in absolute value, counted before decay. The newest
activities of the bucket fill the cap first and each counted portion then decays with
its own age. Filling newest first keeps the greatest value, so one more activity never
lowers a score, and the portions do not depend on `now`, so later never scores higher.

first_only: only the earliest activity of the kind counts (capped if a cap is set).

Storefront activities (`ActivityRecord.storefront`: sent by any browser, unverified) add at most
STOREFRONT_POINTS_PER_DAY points for each UTC day that has some, and never lift a lead into the hot tier
on their own: a lead whose other activities and profile score below `hot` stays below it. The difference
is one breakdown line, so the breakdown still sums to `raw`.

Times must be timezone-aware; `datetime.UTC` is the fast path (a ZoneInfo costs ~30 %).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta

from scoring.model import ActivityRecord, BreakdownLine, Profile, Score
from scoring.ruleset import ActivityRule, Cap, Rules, activity_label
from scoring.vocabulary import ACTIVITY_KINDS

_LINE_NAMES = {kind: (f"activity:{kind}", activity_label(kind)) for kind in ACTIVITY_KINDS}


def tier_for(rules: Rules, total: int, is_customer: bool) -> str:
    """The tier of a total: customer beats hot, hot beats warm, else cold."""
    if is_customer:
        return "customer"
    if total >= rules.hot:
        return "hot"
    if total >= rules.warm:
        return "warm"
    return "cold"


STOREFRONT_POINTS_PER_DAY = 10.0
STOREFRONT_RULE = "cap:storefront"
STOREFRONT_LABEL = "Storefront events (capped)"


def score(rules: Rules, profile: Profile, activities: Sequence[ActivityRecord], now: datetime) -> Score:
    """Score one lead at `now`; deterministic and independent of the order of activities."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    result = _score(rules, profile, activities, now)
    storefront = [a for a in activities if a.storefront]
    if not storefront or profile.is_customer:
        return result
    trusted = _score(rules, profile, [a for a in activities if not a.storefront], now)
    days = len({_day(a.occurred_at.timestamp()) for a in storefront})
    ceiling = trusted.raw + STOREFRONT_POINTS_PER_DAY * days
    if trusted.total < rules.hot:  # storefront events alone never make a lead hot
        ceiling = min(ceiling, max(trusted.raw, rules.hot - 1.0))
    if result.raw <= ceiling:
        return result
    line = BreakdownLine(STOREFRONT_RULE, STOREFRONT_LABEL, len(storefront), 0.0, ceiling - result.raw)
    return _total(rules, profile, (*result.breakdown, line))


def _score(rules: Rules, profile: Profile, activities: Sequence[ActivityRecord], now: datetime) -> Score:
    stamps_by_kind: dict[str, list[datetime]] = {kind: [] for kind in rules.by_kind}
    for activity in activities:
        stamps = stamps_by_kind.get(activity.kind)
        if stamps is not None:
            stamps.append(activity.occurred_at)
    lines: list[BreakdownLine] = []
    half_life = rules.half_life_seconds
    for rule in rules.activities:
        stamps = stamps_by_kind[rule.kind]
        if stamps:
            lines.append(_activity_line(rule, stamps, now, half_life, rules.labels.get(rule.kind)))
    for criterion in rules.compiled_criteria:
        if criterion.matches(profile):
            lines.append(
                BreakdownLine(criterion.rule, criterion.label, 1, criterion.points, criterion.points)
            )
    return _total(rules, profile, tuple(lines))


def _total(rules: Rules, profile: Profile, lines: tuple[BreakdownLine, ...]) -> Score:
    raw = sum([line.points for line in lines], 0.0)
    total = min(max(math.floor(raw + 0.5), rules.minimum), rules.maximum)
    return Score(total, tier_for(rules, total, profile.is_customer), raw, lines)


def _activity_line(
    rule: ActivityRule, stamps: list[datetime], now: datetime, half_life: float, custom: str | None = None
) -> BreakdownLine:
    count = len(stamps)
    if rule.first_only:
        stamps = [min(stamps)]
    if rule.points == 0:
        points = 0.0
    elif rule.cap is not None:
        points = _capped_points(rule.points, rule.cap, stamps, now, half_life)
    else:
        points = rule.points * _decayed_count(stamps, now, half_life)
    rule_name, label = _LINE_NAMES.get(rule.kind) or (f"activity:{rule.kind}", activity_label(rule.kind))
    label = custom or label  # a merchant's own kind reads with the merchant's label
    return BreakdownLine(rule_name, label, count, count * rule.points, points)


def _decayed_count(stamps: list[datetime], now: datetime, half_life: float) -> float:
    """Sum of the decay weights; math.fsum is exact, hence independent of order."""
    if half_life <= 0:
        return float(len(stamps))
    return math.fsum(
        [1.0 if (age := (now - stamp).total_seconds()) <= 0 else 0.5 ** (age / half_life) for stamp in stamps]
    )


def _capped_points(points: float, cap: Cap, stamps: list[datetime], now: datetime, half_life: float) -> float:
    if any(stamp.tzinfo is None for stamp in stamps):  # timestamp() would read them as local time
        raise TypeError("activity times must be timezone-aware")
    bucket_of = _BUCKETS[cap.period]
    now_ts, size = now.timestamp(), abs(points)
    used: dict[int, float] = {}
    terms: list[float] = []
    for ts in sorted([stamp.timestamp() for stamp in stamps], reverse=True):  # newest first: see above
        key = bucket_of(ts)
        room = cap.points - used.get(key, 0.0)
        if room <= 0:
            continue
        portion = size if size <= room else room
        used[key] = used.get(key, 0.0) + portion
        age = now_ts - ts
        terms.append(portion if half_life <= 0 or age <= 0 else portion * 0.5 ** (age / half_life))
    return math.copysign(math.fsum(terms), points)


# Buckets from POSIX timestamps, which count UTC days of exactly 86,400 seconds.
def _day(ts: float) -> int:
    return int(ts // _DAY)


def _week(ts: float) -> int:
    return int((ts // _DAY + 3) // 7)  # 1970-01-01 was a Thursday: weeks start on Mondays


def _month(ts: float) -> int:
    day = _EPOCH + timedelta(days=ts // _DAY)
    return day.year * 12 + day.month


_DAY = 86_400.0
_EPOCH = date(1970, 1, 1)
_BUCKETS: dict[str, Callable[[float], int]] = {"day": _day, "week": _week, "month": _month}
