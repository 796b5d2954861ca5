"""The supervisor's shift report: how fast incidents were acknowledged and resolved, against SLA.

Response time is the number a city is judged by, so the report leads with it: median and
90th percentile minutes to acknowledge and to resolve, and the share within the SLA of
each incident's severity, grouped per shift, per day or per week (city time). The periods
cover what the store holds (open incidents, and resolved ones for ``history.resolved_days``),
every one of those days listed, an empty one too. The same figures by severity (most severe
first: each has its own SLA, and a share for all of them together hides a late critical among
many timely lesser ones), by category and by agency cover one period: the current one, or the
one asked for. An incident counts in the period it opened in.

pandas does the grouping and quantiles; the same frames become the page, the CSV and the
XLSX (openpyxl), so the three never disagree.
"""

from __future__ import annotations

import csv
import io
import re
import time
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any, Literal, cast

import pandas as pd

from dashboard.audit import safe_cell
from dashboard.config import Config
from dashboard.incident_ops import OPS_KIND, merge_all, more_severe, ts
from dashboard.store.base import StateStore
from feeds.events import SEVERITY_RANK
from layouts import report_words
from layouts.sections import REPORT_FIGURES, REPORT_UNASSIGNED, round_half_up, share_pct

Period = Literal["shift", "day", "week"]


COLUMNS = [
    "id",
    "category",
    "agency",
    "severity",
    "opened",
    "ack_min",
    "resolve_min",
    "ack_sla_min",
    "resolve_sla_min",
    "ack_overdue",
    "resolve_overdue",
]


def incidents_frame(store: StateStore, config: Config, now: float) -> pd.DataFrame:
    """One row per incident: when it opened, was acknowledged and resolved, and its SLA.

    The acknowledgement is judged by the SLA of the severity the incident had when it was
    acknowledged: one raised to critical after a timely acknowledgement did not miss the
    critical five minutes. One lowered while it was already late at its level is judged at
    that level (``incident_ops._late_as``), still waiting or not. One still waiting past its SLA at ``now`` is overdue, a breach
    already: leaving those out made the worst cases vanish from the shares."""
    merged = merge_all(store.entities("incident"), store.entities(OPS_KIND))
    sla = cast(dict[str, Any], config.operations.sla)  # looked up by stored text
    rows = []
    for d in merged.values():
        opened = ts(d.get("opened_at") or d["observed_at"])
        resolved = None
        if d.get("status") == "resolved":
            resolved = ts(d.get("resolved_at") or d["observed_at"])
        acked = ts(d["acked_at"]) if d.get("acked_at") else resolved
        severity = d.get("severity") or "medium"
        limits = sla.get(severity)
        # the level it was acknowledged at, or the more severe one it was late at before a lowering
        ack_limits = sla.get(more_severe(d.get("late_as"), d.get("acked_severity")) or severity)
        ack_sla = ack_limits.acknowledge_min if ack_limits else None
        resolve_sla = limits.resolve_min if limits else None
        waited = max(0.0, now - opened) / 60
        rows.append(
            {
                "id": d["id"],
                "category": d.get("category") or "?",
                "agency": d.get("assignee") or REPORT_UNASSIGNED,
                "severity": severity,
                "opened": opened,
                "ack_min": None if acked is None else max(0.0, acked - opened) / 60,
                "resolve_min": None if resolved is None else max(0.0, resolved - opened) / 60,
                "ack_sla_min": ack_sla,
                "resolve_sla_min": resolve_sla,
                "ack_overdue": acked is None and ack_sla is not None and waited > ack_sla,
                "resolve_overdue": resolved is None and resolve_sla is not None and waited > resolve_sla,
            }
        )
    frame = pd.DataFrame(rows, columns=COLUMNS)
    return frame.astype(
        {"ack_min": "float64", "resolve_min": "float64", "opened": "float64", "ack_overdue": bool, "resolve_overdue": bool}
    )


def period_label(opened: float, period: Period, config: Config) -> str:
    local = datetime.fromtimestamp(opened, config.city.tz)
    if period == "week":
        year, week, _ = local.isocalendar()
        return f"{year}-W{week:02d}"
    if period == "day":
        return local.strftime("%Y-%m-%d")
    shifts = sorted(config.operations.shifts, key=lambda s: s.start)
    minute = local.hour * 60 + local.minute
    current = shifts[-1]
    day = local - timedelta(days=1)  # before the first start of the day: the last shift of yesterday
    for shift in shifts:
        if shift.start.hour * 60 + shift.start.minute <= minute:
            current, day = shift, local
    return f"{day:%Y-%m-%d} {current.name}"


#: A period's label, as ``period_label`` writes it: ``2026-12-07``, ``2026-W50`` or
#: ``2026-12-07 pagi`` (a shift's name is at most 40 characters).
AT_MAX = 52
_DAY = re.compile(r"^(\d{4}-\d{2}-\d{2})$")
_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")


class PeriodError(ValueError):
    """A period asked for that is no label of the kind asked for; its text says what one is."""


def checked_at(at: str, period: Period, config: Config) -> str:
    """``at`` if it names a period of this kind, else ``PeriodError`` saying what would."""
    names = [s.name for s in config.operations.shifts]
    said = {
        "day": "a day as 2026-12-07",
        "week": "an ISO week as 2026-W50",
        "shift": f"a day and a shift as 2026-12-07 {names[0]} (shifts: {', '.join(names)})",
    }[period]
    if len(at) <= AT_MAX:
        if period == "week" and (m := _WEEK.match(at)) and _is_week(int(m.group(1)), int(m.group(2))):
            return at
        day, _, name = at.partition(" ")
        if _DAY.match(day) and _is_date(day) and (period == "day" and not name or period == "shift" and name in names):
            return at
    raise PeriodError(f"at: expected {said}")


def _is_week(year: int, week: int) -> bool:
    """An ISO week the year has: 2026 has a week 53, 2025 none."""
    try:
        date.fromisocalendar(year, week, 1)
    except ValueError:
        return False
    return True


def _is_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _starts(period: Period, config: Config, first: datetime, last: datetime) -> Iterator[datetime]:
    """Every moment a period of this kind begins, from the day before ``first`` to ``last``'s day."""
    shifts = sorted(config.operations.shifts, key=lambda s: s.start)
    day = first.date() - timedelta(days=1)
    while day <= last.date():
        if period == "shift":
            yield from (datetime.combine(day, s.start, tzinfo=config.city.tz) for s in shifts)
        elif period == "day" or day.weekday() == 0:
            yield datetime.combine(day, datetime.min.time(), tzinfo=config.city.tz)
        day += timedelta(days=1)


def period_labels(start: float, now: float, period: Period, config: Config) -> list[str]:
    """The labels of every period from the one holding ``start`` to the one holding ``now``."""
    tz = config.city.tz
    labels = [period_label(start, period, config)]
    for moment in _starts(period, config, datetime.fromtimestamp(start, tz), datetime.fromtimestamp(now, tz)):
        if start < moment.timestamp() <= now:
            label = period_label(moment.timestamp(), period, config)
            if label != labels[-1]:
                labels.append(label)
    return labels


def _summary(group: pd.DataFrame) -> pd.Series:
    ack, res = group["ack_min"].dropna(), group["resolve_min"].dropna()
    acked, resolved = group.dropna(subset=["ack_min"]), group.dropna(subset=["resolve_min"])

    def pct(done: pd.DataFrame, col: str, limit: str, overdue: str) -> float | None:
        """Done within the SLA, out of those done and those past it without being done."""
        late = int(group[overdue].sum())
        judged = len(done) + late
        return share_pct(float((done[col] <= done[limit]).sum()), judged)

    def q(values: pd.Series, p: float) -> float | None:
        return round_half_up(float(values.quantile(p)), 1) if len(values) else None

    return pd.Series(
        {
            "incidents": len(group),
            "acknowledged": len(ack),
            "resolved": len(res),
            "ack_median_min": q(ack, 0.5),
            "ack_p90_min": q(ack, 0.9),
            "ack_within_sla_pct": pct(acked, "ack_min", "ack_sla_min", "ack_overdue"),
            "resolve_median_min": q(res, 0.5),
            "resolve_p90_min": q(res, 0.9),
            "resolve_within_sla_pct": pct(resolved, "resolve_min", "resolve_sla_min", "resolve_overdue"),
        },
        dtype="object",
    )


def summarise(frame: pd.DataFrame, by: str, in_order: bool = False) -> pd.DataFrame:
    """One row per value of ``by``: by name, or ``in_order`` of first appearance in ``frame``."""
    if frame.empty:
        return pd.DataFrame(columns=[by, *REPORT_FIGURES])
    out = frame.groupby(by, sort=not in_order)[list(frame.columns)].apply(_summary).reset_index()
    return out[[by, *REPORT_FIGURES]]


def _rank(severity: str) -> int:
    """Most severe first; a severity the feeds did not name (a stored text) after all of them."""
    return SEVERITY_RANK.get(severity, len(SEVERITY_RANK))


def build(
    store: StateStore, config: Config, period: Period = "day", now: float | None = None, at: str | None = None
) -> dict[str, pd.DataFrame]:
    """Periods in the order they came (by name, "malam" came before "pagi" of the same day),
    severities most severe first; the breakdowns of the period ``at`` (``checked_at``), by
    default the one ``now`` is in."""
    now = time.time() if now is None else now
    frame = incidents_frame(store, config, now).sort_values("opened", kind="stable")
    frame["period"] = [period_label(t, period, config) for t in frame["opened"]]
    chosen = frame[frame["period"] == covered(period, config, now, at)]
    by_rank = chosen.sort_values("severity", key=lambda s: s.map(_rank), kind="stable")
    return {
        "by_period": _every_period(summarise(frame, "period", in_order=True), frame, period, config, now),
        "by_severity": summarise(by_rank, "severity", in_order=True),
        "by_category": summarise(chosen, "category"),
        "by_agency": summarise(chosen, "agency"),
    }


def of_period(
    store: StateStore, config: Config, period: Period, at: str | None = None, now: float | None = None
) -> tuple[str, dict[str, pd.DataFrame]]:
    """The period the breakdowns cover and the report's tables: ``at`` once checked
    (``PeriodError`` if it is no period of this kind), or the current one."""
    now = time.time() if now is None else now
    chosen = None if at is None else checked_at(at, period, config)
    return covered(period, config, now, chosen), build(store, config, period, now=now, at=chosen)


def covered(period: Period, config: Config, now: float, at: str | None = None) -> str:
    """The period the breakdowns cover: the one asked for, or the one ``now`` is in."""
    return at or period_label(now, period, config)


def _every_period(rows: pd.DataFrame, frame: pd.DataFrame, period: Period, config: Config, now: float) -> pd.DataFrame:
    """``rows`` with a row of nothing for each period of the kept history that had no incident:
    the list went from "12-05 siang" to "12-06 siang", and two empty shifts read as missing.
    Before the kept history (an incident open for weeks) only the periods with incidents show."""
    if rows.empty:
        return rows
    kept_from = max(float(frame["opened"].iloc[0]), now - max(config.history.resolved_days, 1) * 86_400)
    recent = period_labels(kept_from, now, period, config)
    known = set(recent)
    first_opened = frame.groupby("period", sort=False)["opened"].min()
    unlisted = [label for label in rows["period"] if label not in known]
    older = [label for label in unlisted if first_opened[label] < kept_from]
    later = [label for label in unlisted if first_opened[label] >= kept_from]  # opened "after" now: a clock ahead
    nothing = {"incidents": 0, "acknowledged": 0, "resolved": 0}
    filled = rows.set_index("period").reindex(older + recent + later)
    for column, value in nothing.items():
        filled[column] = filled[column].fillna(value).astype(int)
    filled = filled.astype(object).where(filled.notna(), None)
    return filled.rename_axis("period").reset_index()[["period", *REPORT_FIGURES]]


def _plain(value: Any) -> Any:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    return value.item() if hasattr(value, "item") else value


def as_json(frames: dict[str, pd.DataFrame]) -> dict[str, list[dict[str, Any]]]:
    return {
        name: [{k: _plain(v) for k, v in row.items()} for row in frame.to_dict(orient="records")]
        for name, frame in frames.items()
    }


def _as_text_cells(frame: pd.DataFrame) -> pd.DataFrame:
    """Text cells that a spreadsheet would take for formulas, made plain text (``audit.safe_cell``)."""
    return frame.map(lambda value: safe_cell(value) if isinstance(value, str) else value)


def as_csv(frames: dict[str, pd.DataFrame]) -> str:
    """The three tables one after another, each under a line naming it. Every text cell is
    quoted: a spreadsheet in an Indonesian locale separates cells with ``;``, and split an
    unquoted one holding it (an operator's note, a category from the feed)."""
    out = io.StringIO()
    for name, frame in frames.items():
        out.write(f"# {name}\n")
        _as_text_cells(frame).to_csv(out, index=False, quoting=csv.QUOTE_NONNUMERIC)
        out.write("\n")
    return out.getvalue()


def as_xlsx(frames: dict[str, pd.DataFrame], language: str) -> bytes:
    """One sheet per table, in the page's words (``layouts.report_words``): the sheet's name,
    the headers, and the categories, severities and "no agency" in its cells. Figures stay
    numbers, which the spreadsheet writes in its own locale."""
    out = io.BytesIO()
    with pd.ExcelWriter(out, engine="openpyxl") as writer:
        for name, frame in frames.items():
            said = frame.copy()
            for column in said.columns:
                said[column] = [_said(value, str(column), language) for value in said[column]]
            said.columns = [report_words.header(str(c), language) for c in said.columns]
            _as_text_cells(said).to_excel(writer, sheet_name=_sheet_name(report_words.title(name, language)), index=False)
    return out.getvalue()


def _said(value: Any, column: str, language: str) -> Any:
    said = report_words.word(value, column, language)
    return value if said is None else said


def _sheet_name(text: str) -> str:
    """A spreadsheet's sheet name: at most 31 characters, none of ``[]:*?/\\``."""
    return "".join(" " if c in "[]:*?/\\" else c for c in text)[:31]
