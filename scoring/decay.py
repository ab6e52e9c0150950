"""When decay alone will next move a lead to another tier: solved in closed form, then checked by the engine.

With no new activity a lead's raw score, as a function of the time t, is built from the engine's pieces
(scoring.engine): profile criteria are constant; each activity (after caps and first_only, whose portions
do not depend on the time) adds `p` while it lies in the future and `p * 2 ** -((t - at) / half_life)` once
it is past. Between two consecutive future activity times every activity sum is therefore a line
`c + k * u` in `u = 2 ** -((t - start) / half_life)`, which falls strictly from 1 towards 0 as t grows. The
storefront ceiling is a min/max of such lines (the trusted part, the trusted part plus 10 per storefront
day, `hot - 1`) switched by the trusted total against `hot`, and the tier is a step function of the raw
sum (`floor(raw + 0.5)` against `warm` and `hot`, clamped). So between the points where two of these lines
cross, or a line crosses `warm - 0.5` or `hot - 0.5`, the tier cannot change: the answer is the first of
those candidate points after which the tier differs, found exactly by solving linear equations in u and
evaluating the tier once between consecutive candidates (no search). Decay need not be monotone: negative
points decay upwards, and mixed signs are handled the same way.

The returned instant is the first whole second after the solved crossing; when the crossing lies within a
millisecond of a whole second (where float rounding could put it on either side), or decades away, the
engine has the last word: the first such second at which `scoring.score` gives another tier.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime
from itertools import pairwise

from scoring.engine import _BUCKETS, STOREFRONT_POINTS_PER_DAY, score, tier_for
from scoring.model import ActivityRecord, Profile
from scoring.ruleset import Rules

HORIZON_SECONDS = 100 * 365.25 * 86_400.0  # a change further away than a century counts as never
_DAY = 86_400.0
_CHECKS = 5  # whole seconds tried after the solved crossing (float rounding near a boundary)
# The solved crossing is within microseconds of the true one (a few ulps of u, times the half-life); only a
# crossing that close to a whole second, or decades away (u near 0), is checked with the engine.
_MARGIN = 1e-3
_FAR = 10 * 365.25 * 86_400.0

Term = tuple[float, float]  # (points after caps and first_only, POSIX time of the activity)
Line = tuple[float, float]  # (c, k): c + k * u


def next_tier_change(
    rules: Rules,
    profile: Profile,
    activities: Sequence[ActivityRecord],
    now: datetime,
    *,
    tier: str | None = None,
) -> datetime | None:
    """The first whole second after `now` at which decay alone puts the lead in another tier than at `now`
    (`tier`, when the caller has just scored it), or None when that never happens: no decay, a customer
    (whose tier is not a matter of points), nothing that decays, or a change more than a century away."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    half_life = rules.half_life_seconds
    if half_life <= 0 or profile.is_customer:
        return None
    current = tier if tier is not None else score(rules, profile, activities, now).tier
    if current == "customer":
        return None
    scored = [a for a in activities if a.kind in rules.by_kind]
    if not scored:
        return None
    storefront = any(a.storefront for a in activities)
    if current == "cold" and not storefront and all(rules.by_kind[a.kind].points >= 0 for a in scored):
        return None  # nothing but falling points: cold stays cold
    crossing = _first_crossing(rules, profile, activities, now.timestamp(), current, storefront)
    if crossing is None:
        return None
    stamp = max(math.floor(crossing) + 1, math.floor(now.timestamp()) + 1)
    if stamp - crossing > _MARGIN and crossing - now.timestamp() < _FAR:
        return datetime.fromtimestamp(stamp, UTC)  # clear of float doubt: the engine agrees
    for _ in range(_CHECKS):  # a crossing at (or within float error of) a whole second: ask the engine
        at = datetime.fromtimestamp(stamp, UTC)
        if score(rules, profile, activities, at).tier != current:
            return at
        stamp += 1
    return datetime.fromtimestamp(stamp, UTC)  # not reached for any case the tests found; the job retries


def terms(rules: Rules, activities: Sequence[ActivityRecord]) -> list[Term]:
    """Each activity's points as the engine counts them before decay (caps fill newest first)."""
    stamps_by_kind: dict[str, list[float]] = {}
    for activity in activities:
        if activity.kind in rules.by_kind:
            stamps_by_kind.setdefault(activity.kind, []).append(activity.occurred_at.timestamp())
    found: list[Term] = []
    for kind, stamps in stamps_by_kind.items():
        rule = rules.by_kind[kind]
        if rule.points == 0:
            continue
        if rule.first_only:
            stamps = [min(stamps)]
        if rule.cap is None:
            found += [(rule.points, ts) for ts in stamps]
            continue
        bucket_of, size = _BUCKETS[rule.cap.period], abs(rule.points)
        used: dict[int, float] = {}
        for ts in sorted(stamps, reverse=True):
            key = bucket_of(ts)
            room = rule.cap.points - used.get(key, 0.0)
            if room <= 0:
                continue
            portion = size if size <= room else room
            used[key] = used.get(key, 0.0) + portion
            found.append((math.copysign(portion, rule.points), ts))
    return found


def _first_crossing(
    rules: Rules,
    profile: Profile,
    activities: Sequence[ActivityRecord],
    now_ts: float,
    current: str,
    storefront: bool,
) -> float | None:
    """The POSIX time of the first tier change after `now_ts`, solved on the lines described above."""
    constant = math.fsum([c.points for c in rules.compiled_criteria if c.matches(profile)])
    every = terms(rules, activities)
    trusted = terms(rules, [a for a in activities if not a.storefront]) if storefront else []
    days = len({int(a.occurred_at.timestamp() // _DAY) for a in activities if a.storefront})
    half_life = rules.half_life_seconds
    future = sorted({ts for _, ts in (*every, *trusted) if ts > now_ts})
    starts = [now_ts, *future]
    for index, start in enumerate(starts):
        end = starts[index + 1] if index + 1 < len(starts) else math.inf
        if start - now_ts > HORIZON_SECONDS:
            return None
        low = 0.0 if end == math.inf else 2.0 ** -((end - start) / half_life)
        lines = [_line(every, start, constant, half_life)]
        if storefront:
            kept = _line(trusted, start, constant, half_life)
            lines += [kept, (kept[0] + STOREFRONT_POINTS_PER_DAY * days, kept[1]), (rules.hot - 1.0, 0.0)]
        points = sorted({u for u in _candidates(rules, lines) if low < u < 1.0}, reverse=True)
        bounds = [1.0, *points, low]
        for left, right in pairwise(bounds):
            if _tier(rules, lines, storefront, (left + right) / 2) != current:
                crossing = start + half_life * -math.log2(left) if left < 1.0 else start
                return crossing if crossing - now_ts <= HORIZON_SECONDS else None
    return None


def _line(found: list[Term], start: float, constant: float, half_life: float) -> Line:
    """The activity sum for times in a segment starting at `start` (no activity inside it) as c + k * u."""
    c, k = [constant], []
    for points, ts in found:
        if ts > start:
            c.append(points)  # still in the future over the whole segment: weight 1
        else:
            k.append(points * 2.0 ** -((start - ts) / half_life))
    return math.fsum(c), math.fsum(k)


def _candidates(rules: Rules, lines: list[Line]) -> list[float]:
    """Values of u where a line meets a tier threshold or two lines meet."""
    found = []
    for c, k in lines:
        if k != 0:
            found += [(threshold - c) / k for threshold in (rules.warm - 0.5, rules.hot - 0.5)]
    for i, (c1, k1) in enumerate(lines):
        for c2, k2 in lines[i + 1 :]:
            if k1 != k2:
                found.append((c2 - c1) / (k1 - k2))
    return found


def _total(rules: Rules, raw: float) -> int:
    return min(max(math.floor(raw + 0.5), rules.minimum), rules.maximum)


def _tier(rules: Rules, lines: list[Line], storefront: bool, u: float) -> str:
    """The tier at one value of u, as the engine computes it (storefront ceiling included)."""
    raw = lines[0][0] + lines[0][1] * u
    if storefront:
        kept = lines[1][0] + lines[1][1] * u
        ceiling = kept + lines[2][0] - lines[1][0]
        if _total(rules, kept) < rules.hot:
            ceiling = min(ceiling, max(kept, rules.hot - 1.0))
        raw = min(raw, ceiling)
    return tier_for(rules, _total(rules, raw), False)
