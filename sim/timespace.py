"""Time-space diagram of an arterial from one SUMO run. Host only.

What a traffic engineer checks a green wave with: distance along the corridor
(forward direction, 0 = start of its first edge) against time, with

* every vehicle's trajectory on the corridor (SUMO FCD of the run, fcd.xml),
  forward and backward in two colours; backward distances are mapped onto the
  forward axis piecewise linearly between the junction centres;
* at each traffic light, per direction, a bar at that direction's stop line
  showing the through movement's signal (green, yellow, red) from the run's
  signals.csv and the corridor's through links (the same links whatever
  controller drove the lights);
* the green bands: for each direction, the set of departure times from the
  first stop line at which a vehicle at the links' progression speed (the
  corridor's ``speed_mps``) meets green at every stop line; each maximal
  interval is drawn as a band (a parallelogram through the greens).

The data (TimeSpaceData) is built separately from the drawing, so tests assert
on bars, bands and trajectories rather than pixels. Units: s, m, m/s.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

from sim.arterial_metrics import DIRECTIONS, CorridorGeometry, read_fcd

GREEN, YELLOW, RED = "green", "yellow", "red"
DIRECTION_COLOURS = {"forward": "#1f5fbf", "backward": "#7b2d8e"}  # blue, purple: never a signal colour
SIGNAL_COLOURS = {GREEN: "#19a319", YELLOW: "#f2c200", RED: "#d62020"}
BAND_ALPHA = 0.16


class TimeSpaceError(Exception):
    """Missing run outputs or a window without data."""


@dataclass
class Bar:
    """The through signal of one light in one direction: (start, end, colour) intervals at a distance."""

    tls: str
    direction: str
    x_m: float  # on the forward axis
    intervals: list[tuple[float, float, str]]

    def greens(self) -> list[tuple[float, float]]:
        return [(a, b) for a, b, c in self.intervals if c == GREEN]


@dataclass
class Band:
    """A green band: vehicles leaving the first stop line in [start, end] at progression speed see only green."""

    direction: str
    start_s: float
    end_s: float
    points: list[tuple[float, float]]  # (time offset s, distance m on the forward axis) at each stop line, in order

    @property
    def width_s(self) -> float:
        return self.end_s - self.start_s

    def polygon(self) -> list[tuple[float, float]]:
        left = [(self.start_s + dt, x) for dt, x in self.points]
        right = [(self.end_s + dt, x) for dt, x in reversed(self.points)]
        return left + right


@dataclass
class TimeSpaceData:
    """Everything the diagram shows, in the window [t0, t1]."""

    t0: float
    t1: float
    tls: list[str]
    tls_x_m: list[float]  # junction centres on the forward axis
    bars: list[Bar]
    bands: list[Band]
    trajectories: dict[str, list[list[tuple[float, float]]]] = field(default_factory=dict)  # direction -> [(t, x)]

    def band_share(self, direction: str) -> float:
        """Mean band width over the window as a share of it (0: no progression)."""
        total = sum(max(0.0, min(b.end_s, self.t1) - max(b.start_s, self.t0))
                    for b in self.bands if b.direction == direction)
        return total / (self.t1 - self.t0)


def backward_to_forward(geo: CorridorGeometry):
    """Function mapping a backward-path distance to the forward axis (piecewise linear through junction centres)."""
    f, b = geo.directions["forward"], geo.directions["backward"]
    anchors_b = [0.0] + [b.centres_m[b.tls.index(t)] for t in reversed(geo.tls)] + [b.length_m]
    anchors_f = [f.length_m] + [f.centres_m[f.tls.index(t)] for t in reversed(geo.tls)] + [0.0]

    def to_forward(s: float) -> float:
        for k in range(len(anchors_b) - 1):
            a0, a1 = anchors_b[k], anchors_b[k + 1]
            if s <= a1 or k == len(anchors_b) - 2:
                if a1 == a0:
                    return anchors_f[k]
                return anchors_f[k] + (s - a0) * (anchors_f[k + 1] - anchors_f[k]) / (a1 - a0)
        return anchors_f[-1]

    return to_forward


def read_signals(path: Path, tls_ids: list[str]) -> dict[str, list[tuple[float, str]]]:
    """signals.csv -> {tls: [(time s, state string)]} for the given lights."""
    want = set(tls_ids)
    out: dict[str, list[tuple[float, str]]] = {t: [] for t in tls_ids}
    try:
        with open(path, newline="") as f:
            for row in csv.DictReader(f):
                if row["tls_id"] in want:
                    out[row["tls_id"]].append((float(row["time_s"]), row["state"]))
    except FileNotFoundError:
        raise TimeSpaceError("%s not found: not a run directory of `ampelwerk sim run`" % path) from None
    return out


def _colour(state: str, links: list[int]) -> str:
    chars = [state[i] for i in links if i < len(state)]
    if chars and all(c in "Gg" for c in chars):
        return GREEN
    if any(c in "yYo" for c in chars) and not any(c in "rRs" for c in chars):  # O (dark): no right of way
        return YELLOW
    if any(c in "Gg" for c in chars) and any(c in "yY" for c in chars):
        return YELLOW
    return RED


def signal_intervals(changes: list[tuple[float, str]], links: list[int], t0: float, t1: float) -> list[tuple[float, float, str]]:
    """Merged (start, end, colour) intervals of the links' signal, clipped to [t0, t1]."""
    out: list[tuple[float, float, str]] = []
    for k, (t, state) in enumerate(changes):
        end = changes[k + 1][0] if k + 1 < len(changes) else t1
        a, b = max(t, t0), min(end, t1)
        if b <= a:
            continue
        c = _colour(state, links)
        if out and out[-1][2] == c and abs(out[-1][1] - a) < 1e-9:
            out[-1] = (out[-1][0], b, c)
        else:
            out.append((a, b, c))
    return out


def _intersect(a: list[tuple[float, float]], b: list[tuple[float, float]]) -> list[tuple[float, float]]:
    out = []
    i = j = 0
    while i < len(a) and j < len(b):
        lo, hi = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if hi > lo:
            out.append((lo, hi))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return out


def green_bands(direction: str, greens: list[list[tuple[float, float]]], offsets_s: list[float],
                xs: list[float], min_width_s: float = 1.0) -> list[Band]:
    """Bands through the greens of consecutive stop lines.

    greens[k]: green intervals at the k-th stop line in driving order; offsets_s[k]: travel
    time from the first stop line at progression speed; xs[k]: its distance on the forward axis.
    """
    starts = [(a - offsets_s[0], b - offsets_s[0]) for a, b in greens[0]]
    for g, dt in zip(greens[1:], offsets_s[1:]):
        starts = _intersect(starts, [(a - dt, b - dt) for a, b in g])
    return [Band(direction, a, b, list(zip(offsets_s, xs))) for a, b in starts if b - a >= min_width_s]


def build(run_dir: Path, geo: CorridorGeometry, t0: float | None = None, t1: float | None = None,
          fcd: Path | None = None) -> TimeSpaceData:
    """The diagram's data for a run directory (fcd.xml, signals.csv) in [t0, t1] (default: 600 s mid-run).

    TimeSpaceError if the window lies outside the run or the run has no fcd.xml (made without a corridor).
    """
    run_dir = Path(run_dir)
    signals = read_signals(run_dir / "signals.csv", geo.tls)
    times = [t for ch in signals.values() for t, _ in ch]
    if not times:
        raise TimeSpaceError("%s has no signal states for %s" % (run_dir / "signals.csv", ", ".join(geo.tls)))
    run_end = _run_end(run_dir, max(times))
    run_begin = min(times)
    if t0 is None and t1 is None:
        mid = (run_begin + run_end) / 2
        t0, t1 = max(run_begin, mid - 300), min(run_end, mid + 300)
    elif t0 is None:
        t0 = max(run_begin, t1 - 600)
    elif t1 is None:
        t1 = min(run_end, t0 + 600)
    if t1 <= t0:
        raise TimeSpaceError("--begin=%g s must be before --end=%g s" % (t0, t1))
    if t1 <= run_begin or t0 >= run_end:
        raise TimeSpaceError("window %g..%g s is outside the run's %g..%g s" % (t0, t1, run_begin, run_end))
    if fcd is None:
        fcd = run_dir / "fcd.xml"
        _check_fcd_is_the_runs(run_dir, fcd)
    fcd = Path(fcd)
    if not fcd.is_file():
        raise TimeSpaceError("%s not found: the run was made without a corridor; rerun `ampelwerk sim run ... "
                             "--corridor FILE` to record the corridor's vehicles" % fcd)
    to_fwd = backward_to_forward(geo)
    f = geo.directions["forward"]
    centres = [f.centres_m[k] for k in range(len(geo.tls))]
    bars = []
    bands = []
    # bands that start before the window still cross it: look back (and ahead) the whole corridor's travel time
    margin = 300.0 + geo.directions["forward"].length_m / min(geo.link_speeds_mps or [10.0])
    for d in DIRECTIONS:
        g = geo.directions[d]
        xs = [x if d == "forward" else to_fwd(x) for x in g.stop_lines_m]
        greens = []
        for k, tls in enumerate(g.tls):
            iv = signal_intervals(signals[tls], g.through_links[k], t0 - margin, t1 + margin)
            clipped = [(max(a, t0), min(b, t1), c) for a, b, c in iv if b > t0 and a < t1]
            bars.append(Bar(tls, d, xs[k], clipped))
            greens.append([(a, b) for a, b, c in iv if c == GREEN])
        offsets = [0.0]
        speeds = geo.link_speeds_mps if d == "forward" else list(reversed(geo.link_speeds_mps))
        for k in range(1, len(g.stop_lines_m)):
            offsets.append(offsets[-1] + (g.stop_lines_m[k] - g.stop_lines_m[k - 1]) / speeds[k - 1])
        bands += [b for b in green_bands(d, greens, offsets, xs) if b.end_s + offsets[-1] > t0 and b.start_s < t1]
    data = TimeSpaceData(t0, t1, list(geo.tls), centres, bars, bands)
    tracks = read_fcd(fcd, geo)
    for d in DIRECTIONS:
        lines = []
        for samples in tracks[d].values():
            pts = [(t, s if d == "forward" else to_fwd(s)) for t, s, _v in samples if t0 <= t <= t1]
            if len(pts) > 1:
                lines.append(pts)
        data.trajectories[d] = lines
    return data


def _check_fcd_is_the_runs(run_dir: Path, fcd: Path) -> None:
    """The run's fcd.xml belongs to the signals next to it: the summary says the run recorded one.

    A run directory reused by an older version could keep the fcd.xml of an earlier
    corridor run beside the signals of a later run without one (vehicles would drive
    through reds); `sim run` now replaces its directory whole.
    """
    import json

    if not fcd.is_file():
        return
    try:
        summary = json.loads((run_dir / "summary.json").read_text())
    except (OSError, ValueError):
        raise TimeSpaceError("%s has no readable summary.json: the run did not finish, so its fcd.xml and "
                             "signals.csv may not belong together; run it again" % run_dir) from None
    if not isinstance(summary, dict) or not summary.get("corridor_file"):
        raise TimeSpaceError("%s is left from an earlier run: the run in %s was made without --corridor (see its "
                             "summary.json); run it again with `ampelwerk sim run ... --corridor FILE`" % (fcd, run_dir))


def _run_end(run_dir: Path, fallback: float) -> float:
    import json

    try:
        return float(json.loads((run_dir / "summary.json").read_text())["end_s"])
    except (OSError, ValueError, KeyError):
        return fallback


def plot(data: TimeSpaceData, out_png: Path, title: str = "") -> Path:
    """Draw the diagram (matplotlib, Agg) and write it as PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch, Polygon, Rectangle

    fig, ax = plt.subplots(figsize=(15, 8.5))
    for band in data.bands:
        c = DIRECTION_COLOURS[band.direction]
        ax.add_patch(Polygon(band.polygon(), closed=True, facecolor=c, alpha=BAND_ALPHA, edgecolor="none", zorder=1))
        ax.add_patch(Polygon(band.polygon(), closed=True, fill=False, edgecolor=c, linewidth=0.9, linestyle="--",
                             alpha=0.7, zorder=1))
    for d in DIRECTIONS:
        for pts in data.trajectories.get(d, []):
            ts, xs = zip(*pts)
            ax.plot(ts, xs, color=DIRECTION_COLOURS[d], linewidth=0.6, alpha=0.55, zorder=2)
    bar_h = 9.0
    for bar in data.bars:
        # forward bars just below the stop line position, backward just above: they never overlap,
        # and each direction's vehicles stop at the edge of their own bar
        y = bar.x_m - bar_h if bar.direction == "forward" else bar.x_m
        for a, b, c in bar.intervals:
            ax.add_patch(Rectangle((a, y), b - a, bar_h, facecolor=SIGNAL_COLOURS[c], edgecolor="none", zorder=3))
    ax.set_xlim(data.t0, data.t1)
    xs_all = [b.x_m for b in data.bars]
    ax.set_ylim(min(xs_all) - 120, max(xs_all) + 120)
    ax.set_xlabel("simulation time (s)")
    ax.set_ylabel("distance along the corridor in the forward direction (m)")
    ax.grid(axis="x", color="0.9", linewidth=0.5, zorder=0)
    ax2 = ax.twinx()
    ax2.set_ylim(ax.get_ylim())
    ax2.set_yticks(data.tls_x_m)
    ax2.set_yticklabels(data.tls, fontweight="bold")
    ax2.tick_params(length=0)
    for x in data.tls_x_m:
        ax.axhline(x, color="0.85", linewidth=0.5, zorder=0)
    share = {d: data.band_share(d) for d in DIRECTIONS}
    handles = [Line2D([], [], color=DIRECTION_COLOURS["forward"], label="forward vehicles (upwards)"),
               Line2D([], [], color=DIRECTION_COLOURS["backward"], label="backward vehicles (downwards)"),
               Patch(facecolor=DIRECTION_COLOURS["forward"], alpha=BAND_ALPHA + 0.1, edgecolor="none",
                     label="forward green band (%.0f %% of the time)" % (100 * share["forward"])),
               Patch(facecolor=DIRECTION_COLOURS["backward"], alpha=BAND_ALPHA + 0.1, edgecolor="none",
                     label="backward green band (%.0f %% of the time)" % (100 * share["backward"])),
               Patch(facecolor=SIGNAL_COLOURS[GREEN], label="through movement green"),
               Patch(facecolor=SIGNAL_COLOURS[YELLOW], label="yellow"),
               Patch(facecolor=SIGNAL_COLOURS[RED], label="red"),
               Patch(facecolor="none", edgecolor="none",
                     label="signal bars: lower = forward, upper = backward stop line")]
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.08), ncol=4, fontsize=9, frameon=False)
    ax.set_title(title or "Time-space diagram", fontsize=11)
    fig.tight_layout()
    out_png = Path(out_png)
    out_png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out_png, dpi=100)
    plt.close(fig)
    return out_png


def timespace_command(run_dir: Path, corridor_file: Path, out_png: Path, begin: float | None = None,
                      end: float | None = None, shown: Path | None = None) -> Path:
    """`ampelwerk sim timespace`: build the diagram of a run made with --corridor, plot it, print what it shows.

    ``shown``: the path to name as written (where out_png will be renamed to)."""
    import json

    from sim.arterial_metrics import ArterialMetricsError, load_geometry

    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise TimeSpaceError("run directory %s not found" % run_dir)
    try:
        geo = load_geometry(Path(corridor_file))
        data = build(run_dir, geo, begin, end)
    except ArterialMetricsError as e:
        raise TimeSpaceError(str(e)) from None
    try:
        s = json.loads((run_dir / "summary.json").read_text())
        what = "%s, %s, seed %s" % (Path(s["scenario"]).stem, s["controller"], s["seed"])
    except (OSError, ValueError, KeyError):
        what = run_dir.name
    title = "Time-space diagram: %s; corridor %s (%s), %g-%g s" % (what, geo.id, " - ".join(geo.tls), data.t0, data.t1)
    plot(data, out_png, title)
    for d in DIRECTIONS:
        bands = [b for b in data.bands if b.direction == d]
        print("%s: %d vehicles on the corridor, %d green bands (widest %.1f s), band %.0f %% of the time" % (
            d, len(data.trajectories.get(d, [])), len(bands), max((b.width_s for b in bands), default=0.0),
            100 * data.band_share(d)))
    print("wrote %s" % (shown or out_png))
    return Path(out_png)
