"""The audit trail: who did what to what, when, in which role, and from where.

Entries are appended to the store (so every web worker writes to, and reads from, one trail)
and bounded by ``operations.audit_kept``, newest first. Nothing edits or removes an entry
except that bound. ``to_csv`` gives the export a supervisor hands to an auditor.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from dashboard.incident_ops import Actor, iso
from dashboard.store.base import StateStore
from feeds.text import BIDI_CONTROL

COLUMNS = ("at", "who", "role", "via", "origin", "action", "target", "detail")


class AuditTrail:
    def __init__(self, store: StateStore, keep: int) -> None:
        self.store = store
        self.keep = keep

    def record(self, actor: Actor, action: str, target: str, at: float, detail: dict[str, Any] | None = None) -> dict[str, Any]:
        entry = {
            "at": iso(at),
            "who": actor.name,
            "role": actor.role,
            "via": actor.via,
            "origin": actor.origin,
            "action": action,
            "target": target,
            "detail": detail or {},
        }
        self.store.append_audit(entry, self.keep)
        return entry

    def entries(self, limit: int = 100) -> list[dict[str, Any]]:
        return self.store.audit(min(limit, self.keep))


def to_csv(entries: list[dict[str, Any]]) -> str:
    """One row per entry, ``detail`` as compact JSON; cells that a spreadsheet would run as a
    formula are prefixed with a quote (CSV injection), a bidi control is written as its
    escape, and every cell is quoted, for the spreadsheets that separate cells with ``;``
    (``shift_report.as_csv``)."""
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL)
    writer.writerow(COLUMNS)
    for entry in entries:
        row = [entry.get(c, "") for c in COLUMNS[:-1]] + [json.dumps(entry.get("detail", {}), ensure_ascii=False, sort_keys=True)]
        writer.writerow([safe_cell(str(v)) for v in row])
    return out.getvalue()


def safe_cell(value: str) -> str:
    """A cell a spreadsheet shows as text and as it was typed.

    One that starts like a formula gets a leading quote: what feeds and operators write (a
    category, a note) reaches supervisors' exports, and ``=HYPERLINK(...)`` in one would send
    the sheet's figures elsewhere when opened. A bidi control becomes its escape (``\\u202e``):
    an operator's note is kept as typed, and a right-to-left override in it would make the
    auditor's sheet show the note, or the cells after it, in another order than was written."""
    value = BIDI_CONTROL.sub(lambda m: f"\\u{ord(m.group()):04x}", value)
    if value == "-":
        return value  # a lone dash (no agency yet) is no formula, and "'-" read as a typo
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value
