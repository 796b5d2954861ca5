"""Small line charts as SVG data URIs: the tablet's KPI trends and the drainage sparklines.

Why SVG images and not plotly graphs: without plotly.js a page is a fraction of the weight
and paints sooner, a chart never catches a finger that meant to scroll, a row of the wall
costs a few hundred bytes instead of a graph component, and the same image prints crisply
into the PDF summary. Labels are never drawn inside the image: the callers write them as
HTML around it, where they scale, wrap and can be read by ``pdftotext``.

Everything here is drawing only (value to pixel, a line, a guide, a band, a dot); what a
chart means (which target, which colours) is decided by its caller. Attributes use single
quotes and few decimals, and only what a URI cannot carry is escaped, so the image stays
short: it travels with every update of its panel.
"""

from __future__ import annotations

from collections.abc import Sequence

SVG_NS = "http://www.w3.org/2000/svg"
#: Keeps a line's weight when a stretched image (``preserveAspectRatio='none'``) is scaled.
FIXED_STROKE = "vector-effect='non-scaling-stroke'"


def y_of(value: float, lo: float, hi: float, top: float, bottom: float) -> float:
    """Where ``value`` sits between ``top`` (for ``hi``) and ``bottom`` (for ``lo``), clamped to them."""
    share = 0.0 if hi - lo < 1e-12 else min(max((value - lo) / (hi - lo), 0.0), 1.0)
    return round(bottom - (bottom - top) * share, 1)


def padded(lo: float, hi: float, also: float | None = None, pad: float = 0.12) -> tuple[float, float]:
    """A value range holding ``lo``..``hi`` (and ``also``, e.g. a target) with a margin, never empty."""
    if also is not None:
        lo, hi = min(lo, also), max(hi, also)
    if hi - lo < 1e-9:
        lo, hi = lo - 1, hi + 1
    margin = (hi - lo) * pad
    return lo - margin, hi + margin


def points_attr(points: Sequence[tuple[float, float]]) -> str:
    return " ".join(f"{x:g},{y:g}" for x, y in points)


def polyline(points: Sequence[tuple[float, float]], colour: str, width: float, *, fixed: bool = False) -> str:
    keep = f" {FIXED_STROKE}" if fixed else ""
    return (
        f"<polyline points='{points_attr(points)}' fill='none' stroke='{colour}' stroke-width='{width:g}' "
        f"stroke-linejoin='round'{keep}/>"
    )


def guide(
    y: float, length: float, colour: str, width: float, dash: str, *, fixed: bool = False, opacity: float | None = None
) -> str:
    """A dashed horizontal line across the chart: a target, a threshold."""
    keep = f" {FIXED_STROKE}" if fixed else ""
    fade = "" if opacity is None else f" opacity='{opacity:g}'"
    return f"<path d='M0 {y:g}H{length:g}' stroke='{colour}' stroke-width='{width:g}' stroke-dasharray='{dash}'{fade}{keep}/>"


def band(top: float, height: float, length: float, colour: str, opacity: float) -> str:
    """A tinted strip across the chart: the good side of a target."""
    return f"<rect y='{top:g}' width='{length:g}' height='{height:g}' fill='{colour}' fill-opacity='{opacity:g}'/>"


def dot(x: float, y: float, colour: str, size: float, *, fixed: bool = False) -> str:
    """A round mark (a zero-length stroke, so it stays round when the image is stretched)."""
    keep = f" {FIXED_STROKE}" if fixed else ""
    return f"<path d='M{x:g} {y:g}h0' stroke='{colour}' stroke-width='{size:g}' stroke-linecap='round'{keep}/>"


def data_uri(parts: Sequence[str], width: int, height: int, *, stretch: bool = False) -> str:
    """The drawn parts as one ``data:`` URI of a ``width`` x ``height`` image.

    ``stretch``: the image fills whatever box it is given (a trend across a card of any
    width); otherwise it keeps its own size and shape.
    """
    size = " preserveAspectRatio='none'" if stretch else f" width='{width}' height='{height}'"
    svg = f"<svg xmlns='{SVG_NS}' viewBox='0 0 {width} {height}'{size}>{''.join(parts)}</svg>"
    escaped = svg.replace("%", "%25").replace("#", "%23").replace("<", "%3C").replace(">", "%3E").replace('"', "%22")
    return "data:image/svg+xml;charset=utf-8," + escaped
