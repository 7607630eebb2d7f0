"""The report's chart: the rollout at a glance, as PNG and SVG.

Top to bottom on one time axis: the stages as a strip, each colour's share of traffic as a step
line, then the error rate and the p95 of each version. Stage boundaries are dotted lines through
every panel; incidents are red lines, named in the traffic panel.

Drawn on a bare `Figure` (the Agg canvas, no pyplot): no display, no global state.
"""

from __future__ import annotations

import io
import math
import textwrap
from dataclasses import dataclass
from datetime import datetime, timedelta

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter, date2num
from matplotlib.figure import Figure
from matplotlib.transforms import Bbox, blended_transform_factory

from stagewise.core import rollout as model
from stagewise.tools.report.data import Report
from stagewise.tools.report.metrics import Point
from stagewise.tools.report.timeline import Rollout, human_duration

WIDTH_INCHES, HEIGHT_INCHES, DPI = 12.0, 8.0, 100
SIZE = (int(WIDTH_INCHES * DPI), int(HEIGHT_INCHES * DPI))
"""The PNG's size in pixels (width, height)."""

COLOURS = {"blue": "#1f63c6", "green": "#1e9a45"}
INCIDENT = "#c62828"
BOUNDARY = "#8a8a8a"
FONT = 10


@dataclass(frozen=True)
class Chart:
    png: bytes
    svg: bytes


def _steps(points: tuple[Point, ...], attribute: str) -> tuple[list[datetime], list[float]]:
    xs = [p.start for p in points] + ([points[-1].end] if points else [])
    ys = []
    for p in points:
        value = getattr(p.measurement, attribute)
        ys.append(math.nan if value is None else float(value))
    return xs, ys + ys[-1:]


def draw(report: Report) -> Figure:
    rollout, metrics = report.rollout, report.metrics
    figure = Figure(figsize=(WIDTH_INCHES, HEIGHT_INCHES), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    strip, traffic, errors, latency = figure.subplots(
        4, 1, sharex=True, gridspec_kw={"height_ratios": [0.32, 1.25, 1, 1]}
    )
    figure.suptitle(
        f"{report.stack}: rollout of {rollout.version} to {rollout.candidate}"
        + (f" against {rollout.baseline} on {rollout.live}" if rollout.baseline else "")
        + f", {rollout.outcome} ({human_duration(rollout.duration)})",
        fontsize=FONT + 3,
    )
    span = rollout.end - rollout.start
    pad = span * 0.02 if span > timedelta(0) else timedelta(minutes=1)
    strip.set_xlim(rollout.start - pad, rollout.end + pad)  # shared by every panel

    # The stages as a strip: one bar per stage, darker as the candidate gets more traffic.
    strip.set_yticks([])
    strip.set_ylim(0, 1)
    strip.set_ylabel("stage", rotation=0, ha="right", va="center", fontsize=FONT)
    for spine in ("top", "right", "left"):
        strip.spines[spine].set_visible(False)
    candidate_colour = COLOURS.get(rollout.candidate, "#555555")
    for stage in rollout.stages:
        start, width = date2num(stage.start), date2num(stage.end) - date2num(stage.start)
        alpha = 0.12 + 0.6 * (stage.share or 0) / 100
        strip.barh(0.5, width, left=start, height=0.8, color=candidate_colour, alpha=alpha, edgecolor="white")

    # Traffic per colour.
    # After the end, the traffic it left: all to the candidate (finished) or back to live (aborted).
    closing = {"finished": 100, "aborted": 0}.get(rollout.outcome)
    for colour in ("blue", "green"):
        xs = [s.start for s in rollout.stages] + [rollout.end]
        ys = [(s.traffic or {}).get(colour, math.nan) for s in rollout.stages]
        if closing is not None:
            xs.append(rollout.end + pad)
            ys.append(model.split(rollout.candidate, closing)[colour])
        version = rollout.version if colour == rollout.candidate else rollout.baseline
        role = "candidate" if colour == rollout.candidate else "live"
        traffic.step(
            xs,
            ys + ys[-1:],
            where="post",
            color=COLOURS[colour],
            linewidth=2.2,
            label=f"{colour}: {version or 'no version'} ({role})",
        )
    traffic.set_ylim(-5, 112)
    traffic.set_yticks([0, 25, 50, 75, 100])
    traffic.set_ylabel("traffic, %", fontsize=FONT)

    # Error rate and p95 per version.
    if metrics.series is not None:
        for version, points in metrics.series.items():
            colour = rollout.candidate if version == rollout.version else rollout.live
            role = "candidate" if version == rollout.version else "live"
            for axes, attribute in ((errors, "error_rate"), (latency, "p95_ms")):
                xs, ys = _steps(points, attribute)
                axes.step(xs, ys, where="post", color=COLOURS[colour], linewidth=1.6, label=f"{version} ({role})")
        errors.set_ylim(bottom=0)
        latency.set_ylim(bottom=0)
    else:
        reason = "\n".join(textwrap.wrap(f"No metrics: {metrics.missing}", 90))
        for axes, text in ((errors, reason), (latency, "No metrics (see above)")):
            axes.text(
                0.5, 0.5, text, transform=axes.transAxes, ha="center", va="center", fontsize=FONT, color="#444444"
            )
            axes.set_yticks([])
    errors.set_ylabel("error rate, %", fontsize=FONT)
    latency.set_ylabel("p95, ms", fontsize=FONT)

    for axes in (strip, traffic, errors, latency):
        for stage in rollout.stages[1:]:
            axes.axvline(stage.start, color=BOUNDARY, linestyle=":", linewidth=1)
        for incident in rollout.incidents:
            axes.axvline(incident.at, color=INCIDENT, linewidth=1.4)
        axes.tick_params(labelsize=FONT)
        if axes is not strip:
            axes.grid(axis="y", color="#e4e4e4")

    for axes in (traffic, errors):
        if axes.get_legend_handles_labels()[0]:
            axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=FONT, frameon=False)

    locator = AutoDateLocator(minticks=4, maxticks=10)
    latency.xaxis.set_major_locator(locator)
    latency.xaxis.set_major_formatter(ConciseDateFormatter(locator))
    latency.set_xlabel("time (UTC)", fontsize=FONT)

    # Names go where they fit, which needs the final layout in pixels.
    figure.canvas.draw()
    _label_stages(figure, strip, rollout)
    _label_incidents(figure, traffic, rollout)
    return figure


def _label_stages(figure: Figure, strip: Axes, rollout: Rollout) -> None:
    """Each stage's name centred in its bar where it fits; where it does not, left out (the
    Markdown's timeline names every stage)."""
    renderer = _renderer(figure)
    for stage in rollout.stages:
        x0 = strip.transData.transform((date2num(stage.start), 0))[0]
        x1 = strip.transData.transform((date2num(stage.end), 0))[0]
        middle = stage.start + (stage.end - stage.start) / 2
        text = strip.text(date2num(middle), 0.5, stage.stage, ha="center", va="center", fontsize=FONT - 1)
        if text.get_window_extent(renderer).width > (x1 - x0) - 4:
            text.remove()


def _label_incidents(figure: Figure, traffic: Axes, rollout: Rollout) -> None:
    """Name each incident beside its line near the top of the traffic panel, on the side with
    room; one that would overlap a name already there goes a line lower."""
    renderer = _renderer(figure)
    transform = blended_transform_factory(traffic.transData, traffic.transAxes)
    inside = traffic.get_window_extent(renderer)
    placed: list[Bbox] = []
    for incident in rollout.incidents:
        x = traffic.transData.transform((date2num(incident.at), 0))[0]
        right_half = x > inside.x0 + inside.width / 2
        name = f"{incident.kind} at {incident.from_stage}"
        for row in range(4):
            label = traffic.text(
                date2num(incident.at),
                0.96 - 0.11 * row,
                f"{name} " if right_half else f" {name}",
                transform=transform,
                ha="right" if right_half else "left",
                va="top",
                fontsize=FONT - 1,
                color=INCIDENT,
                bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.85, "pad": 1},
            )
            box = label.get_window_extent(renderer)
            if not any(box.overlaps(other) for other in placed):
                placed.append(box)
                break
            label.remove()


def _renderer(figure: Figure):
    canvas = figure.canvas
    assert isinstance(canvas, FigureCanvasAgg)
    return canvas.get_renderer()


def render(report: Report) -> Chart:
    figure = draw(report)
    png, svg = io.BytesIO(), io.BytesIO()
    figure.savefig(png, format="png", dpi=DPI, metadata={"Software": None})
    figure.savefig(svg, format="svg", metadata={"Date": None})
    return Chart(png.getvalue(), svg.getvalue())
