"""Figures of the findings: one function per figure, each drawing on an Axes and returning it.

Why one module: one function per figure over one shared style (palette, role and severity looks, label
fitting), and ``toolkit.plots`` is the one namespace notebooks and the report draw from.

Every function takes the toolkit's tables (see :mod:`toolkit.schema`), an optional matplotlib
``ax`` (a new figure is made when it is missing) and returns the Axes. Style is applied only
inside :func:`style` (a ``matplotlib.rc_context``): the global ``rcParams`` are never changed.

Colours come from the Okabe-Ito palette, distinguishable with the common colour-vision
deficiencies (M. Okabe and K. Ito, "Color Universal Design", 2008,
https://jfly.uni-koeln.de/color/; B. Wong, "Points of view: Color blindness", Nature Methods 8,
441, 2011). Colour is never the only cue: roles and severities also get a hatch or a marker and
are named in labels, so a figure printed in black and white still reads.

Captured values (hosts, URLs, identifiers) reach the figures only as plain text: they are cut to
a readable length and ``$`` is escaped, so a hostile host name cannot switch on mathtext.

>>> import matplotlib
>>> matplotlib.use("Agg")
>>> from toolkit.schema import TABLES
>>> leaks = TABLES["leaks"].frame({"session": ["normal", "incognito"], "needle_kind": ["url", "url"],
...     "organisation": ["Xiaomi", "Xiaomi"], "severity": ["full_url", "full_url"], "kind": ["leak", "leak"]})
>>> ax = leak_matrix(leaks)
>>> [t.get_text() for t in ax.get_yticklabels()], [t.get_text() for t in ax.get_xticklabels()]
(['normal', 'incognito'], ['Xiaomi'])
>>> import matplotlib.pyplot as plt; plt.close(ax.figure)
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, Literal

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from cycler import cycler
from matplotlib.axes import Axes
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch, Patch, Rectangle
from matplotlib.ticker import FixedLocator, FuncFormatter, MaxNLocator
from matplotlib.transforms import Bbox

from toolkit.coverage import READABLE, flow_status
from toolkit.leaks.direction import sent_by_device
from toolkit.leaks.steps import describe_step
from toolkit.schema import ROLES, SEVERITIES

__all__ = [
    "OKABE_ITO",
    "ROLE_STYLE",
    "SEVERITY_STYLE",
    "bytes_by_organisation",
    "chain_steps",
    "datatype_matrix",
    "decryption_coverage",
    "encoding_chain",
    "fit_labels",
    "identifier_persistence",
    "leak_matrix",
    "overlapping_labels",
    "plain_label",
    "request_timeline",
    "style",
]

#: The Okabe-Ito palette (Okabe and Ito 2008; Wong 2011), by its usual colour names.
OKABE_ITO: dict[str, str] = {
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
    "grey": "#999999",
    "black": "#000000",
}

_ROLE_LOOK = {
    "first_party": (OKABE_ITO["blue"], "", "o"),
    "platform": (OKABE_ITO["reddish_purple"], "xx", "s"),
    "third_party": (OKABE_ITO["orange"], "//", "^"),
    "infrastructure": (OKABE_ITO["bluish_green"], "..", "D"),
    "unknown": (OKABE_ITO["grey"], "\\\\", "v"),
}
#: Colour, hatch and marker of each endpoint role (``endpoints.role``), in the order of :data:`~toolkit.schema.ROLES`.
ROLE_STYLE: dict[str, tuple[str, str, str]] = {role: _ROLE_LOOK[role] for role in ROLES}

#: Colour and hatch of each leak severity (``leaks.severity``), worst first.
_SEVERITY_LOOK = {
    "full_url": (OKABE_ITO["vermillion"], "xx"),
    "identifier": (OKABE_ITO["reddish_purple"], "++"),
    "path": (OKABE_ITO["orange"], "//"),
    "search_term": (OKABE_ITO["yellow"], ".."),
    "domain": (OKABE_ITO["sky_blue"], "\\\\"),
}
SEVERITY_STYLE: dict[str, tuple[str, str]] = {severity: _SEVERITY_LOOK[severity] for severity in SEVERITIES}

_PERSISTENCE_STYLE: dict[str, tuple[str, str]] = {
    "request": (OKABE_ITO["sky_blue"], "o"),
    "session": (OKABE_ITO["bluish_green"], "s"),
    "across_sessions": (OKABE_ITO["orange"], "^"),
    "across_modes": (OKABE_ITO["vermillion"], "D"),
}

_STATUS_STYLE: dict[str, tuple[str, str]] = {
    "decrypted": (OKABE_ITO["bluish_green"], ""),
    "plaintext": (OKABE_ITO["sky_blue"], ".."),
}
_NOT_DECRYPTED_HATCHES = ("//", "xx", "\\\\", "++", "--", "oo")
_NOT_DECRYPTED_COLOURS = (
    OKABE_ITO["vermillion"],
    OKABE_ITO["orange"],
    OKABE_ITO["reddish_purple"],
    OKABE_ITO["grey"],
    OKABE_ITO["yellow"],
    OKABE_ITO["blue"],
)

_RC: dict[str, Any] = {
    "axes.prop_cycle": cycler(
        color=[
            OKABE_ITO[c]
            for c in (
                "blue",
                "orange",
                "bluish_green",
                "vermillion",
                "reddish_purple",
                "sky_blue",
                "yellow",
                "grey",
            )
        ]
    ),
    "font.size": 9,
    "axes.titlesize": 11,
    "axes.titleweight": "bold",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "hatch.linewidth": 0.8,
    "legend.frameon": False,
    "text.parse_math": True,
    "svg.fonttype": "none",
}

_UNKNOWN = "(unknown)"


@contextmanager
def style() -> Iterator[None]:
    """The toolkit's figure style, for the duration of a ``with`` block only.

    >>> import matplotlib
    >>> before = matplotlib.rcParams["font.size"]
    >>> with style():
    ...     inside = matplotlib.rcParams["font.size"]
    >>> inside, matplotlib.rcParams["font.size"] == before
    (9.0, True)
    """
    interactive = matplotlib.is_interactive()
    try:
        with plt.rc_context(_RC):  # type: ignore[arg-type]
            try:
                yield
            finally:  # IPython may switch interactive mode on for the first figure: keep that
                interactive = matplotlib.is_interactive()
    finally:
        matplotlib.interactive(interactive)


def plain_label(value: Any, limit: int = 40) -> str:
    """A captured value as safe, short figure text: cut to ``limit`` characters, ``$`` escaped.

    >>> plain_label("$x$ costs " + "9" * 50, limit=12)
    '\\\\$x\\\\$ costs 9…'

    >>> plain_label(None)
    '(unknown)'
    """
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return _UNKNOWN
    text = " ".join(str(value).split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text.replace("$", r"\$")


def _target(ax: Axes | None, figsize: tuple[float, float]) -> Axes:
    if ax is not None:
        return ax
    _figure, new_ax = plt.subplots(figsize=figsize, layout="constrained")
    return new_ax


def _lines_for(rows: int, base: float, per_row: float = 0.24, most: float = 40.0) -> float:
    """A figure height (inches) that gives ``rows`` labelled rows room to breathe."""
    return float(min(max(base, 1.3 + per_row * rows), most))


def _shown(labels: Sequence[Any]) -> list[Any]:
    return [t for t in labels if t.get_visible() and t.get_text()]


def _crowded(labels: Sequence[Any], renderer: Any, pad: float = 1.0) -> bool:
    """Do any two of these texts (in tick order) touch? Neighbours are enough for tick labels."""
    boxes = [t.get_window_extent(renderer).expanded(1.0, 1.0).padded(pad / 2) for t in _shown(labels)]
    return any(a.overlaps(b) for a, b in itertools.pairwise(boxes))


def overlapping_labels(ax: Axes) -> list[tuple[str, str]]:
    """Pairs of texts of ``ax`` that run into each other: tick labels of one axis among themselves,
    and tick labels against the axis labels and the title. Empty when the figure reads cleanly.

    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> fig, ax = plt.subplots(figsize=(2, 2))
    >>> _ = ax.set_xticks(range(6), [f"organisation-{i}" for i in range(6)])
    >>> bool(overlapping_labels(ax))
    True
    >>> overlapping_labels(fit_labels(ax))
    []
    >>> plt.close(fig)
    """
    _figure, renderer = _laid_out(ax)
    out: list[tuple[str, str]] = []

    def box(text: Any) -> Bbox:
        return text.get_window_extent(renderer)

    groups = [_shown(ax.get_xticklabels()), _shown(ax.get_yticklabels())]
    for labels in groups:
        boxes = [box(t) for t in labels]
        for i in range(len(labels)):
            for j in range(i + 1, len(labels)):
                if boxes[i].overlaps(boxes[j]):
                    out.append((labels[i].get_text(), labels[j].get_text()))
    frame = [t for t in (ax.xaxis.label, ax.yaxis.label, ax.title) if t.get_visible() and t.get_text()]
    for text in frame:
        for label in groups[0] + groups[1]:
            if box(text).overlaps(box(label)):
                out.append((text.get_text(), label.get_text()))
    return out


def _laid_out(ax: Axes) -> tuple[Figure, Any]:
    """The root figure of ``ax``, laid out as it will be drawn, and a renderer to measure its texts."""
    figure = ax.get_figure(root=True)
    assert isinstance(figure, Figure)
    figure.draw_without_rendering()
    get_renderer = getattr(figure.canvas, "get_renderer", None)
    # canvases without their own renderer (the report's PNG canvas) measure with the figure's own
    return figure, get_renderer() if get_renderer is not None else figure._get_renderer()  # type: ignore[attr-defined]


def _thin(axis: Any, renderer: Any, figure: Figure) -> None:
    """Fewer ticks until their labels stop touching: every k-th of fixed ticks, fewer bins otherwise."""
    locator = axis.get_major_locator()
    if isinstance(locator, FixedLocator):
        ticks = list(locator.tick_values(0, 0))
        labels = [t.get_text() for t in axis.get_ticklabels()]
        if len(labels) != len(ticks):
            return
        for step in range(2, len(ticks) + 1):
            axis.set_ticks(ticks[::step], labels[::step])
            figure.draw_without_rendering()
            if not _crowded(axis.get_ticklabels(), renderer):
                return
        return
    for bins in (6, 4, 3, 2):
        axis.set_major_locator(MaxNLocator(nbins=bins))
        figure.draw_without_rendering()
        if not _crowded(axis.get_ticklabels(), renderer):
            return


def fit_labels(ax: Axes) -> Axes:
    """Keep tick labels from running into each other, whatever the number of rows or the width:
    x labels are turned by 30° first, then both axes get a smaller font (down to 6 pt), and only
    then fewer labels (every k-th row, or fewer bins on a numeric axis)."""
    figure, renderer = _laid_out(ax)
    axes: tuple[tuple[Any, Literal["x", "y"]], ...] = ((ax.xaxis, "x"), (ax.yaxis, "y"))
    for axis, name in axes:
        if not _crowded(axis.get_ticklabels(), renderer):
            continue
        if name == "x" and not any(t.get_rotation() for t in axis.get_ticklabels()):
            ax.tick_params(axis="x", labelrotation=30)
            for text in axis.get_ticklabels():
                text.set_horizontalalignment("right")
                text.set_rotation_mode("anchor")
            figure.draw_without_rendering()
            if not _crowded(axis.get_ticklabels(), renderer):
                continue
        for size in (7.5, 6.5, 6.0):
            ax.tick_params(axis=name, labelsize=size)
            figure.draw_without_rendering()
            if not _crowded(axis.get_ticklabels(), renderer):
                break
        else:
            _thin(axis, renderer, figure)
    return ax


def _text_column(frame: pd.DataFrame, *names: str) -> pd.Series:
    """The first non-missing of ``names`` per row, as text (``(unknown)`` when all are missing)."""
    out = pd.Series([pd.NA] * len(frame), index=frame.index, dtype="string")
    for name in names:
        if name in frame.columns:
            out = out.fillna(frame[name].astype("string"))
    return out.fillna(_UNKNOWN)


def _session_of(frame: pd.DataFrame) -> pd.Series:
    return _text_column(frame, "session", "capture")


def _in_order(values: pd.Series) -> list[str]:
    """Distinct values in order of first appearance."""
    return list(dict.fromkeys(values.tolist()))


def _empty(ax: Axes, title: str, message: str) -> Axes:
    ax.set_title(title)
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes, parse_math=False)
    ax.set_xticks([])
    ax.set_yticks([])
    return ax


def _utc_naive(ts: pd.Series) -> np.ndarray:
    series = pd.to_datetime(ts, utc=True)
    return np.asarray(series.dt.tz_localize(None).to_numpy(dtype="datetime64[ns]"))


def _bytes_text(value: float, _position: Any = None) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if abs(value) < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} GB"  # pragma: no cover


def _keep_top(values: pd.Series, top: int, weight: pd.Series | None = None) -> tuple[pd.Series, str | None]:
    """``values`` with all but the ``top`` most frequent (or heaviest) replaced by ``(N others)``,
    and that label (``None`` when nothing was replaced)."""
    totals = (weight if weight is not None else pd.Series(1, index=values.index)).groupby(values).sum()
    if len(totals) <= top:
        return values, None
    kept = set(totals.sort_values(ascending=False, kind="stable").index[:top])
    label = f"({len(totals) - top} others)"
    return values.where(values.isin(kept), label), label


def _last(names: list[str], label: str | None) -> list[str]:
    return [n for n in names if n != label] + ([label] if label in names else [])


def leak_matrix(
    leaks: pd.DataFrame,
    *,
    ax: Axes | None = None,
    include_referer: bool = True,
    top: int = 25,
    title: str = "What leaked to whom",
) -> Axes:
    """Sessions (rows) against destination organisations (columns); each cell says what leaked.

    A cell lists the needle kinds with their counts (``url ×4``; Referer leaks marked
    ``(referer)``); its colour and hatch give the worst severity in it. The destination is the
    leak's ``organisation``, or its host when no list knows the owner. The ``top`` destinations
    by number of leaks get a column each; the rest share one, ``(N others)``.
    """
    with style():
        frame = leaks if include_referer else leaks[leaks["kind"].astype("string") != "referer"]
        ax = _target(ax, (7.5, 3.5))
        frame = sent_by_device(leaks)  # what the device sent; a server's Set-Cookie/Location is not
        frame = frame if include_referer else frame[frame["kind"].astype("string") != "referer"]
        if frame.empty:
            return _empty(_target(ax, (7.5, 3.5)), title, "no leaks found")
        sessions = _session_of(frame)
        destinations, others = _keep_top(_text_column(frame, "organisation", "host"), top)
        kinds = _text_column(frame, "needle_kind")
        referer = frame["kind"].astype("string").fillna("") == "referer"
        what = kinds.where(~referer.to_numpy(), kinds + " (referer)")
        severity = _text_column(frame, "severity")
        rows = _in_order(sessions)
        columns = _last(destinations.value_counts(sort=True).index.tolist(), others)
        ax = _target(ax, (min(max(7.5, 3.5 + 1.4 * len(columns)), 40.0), _lines_for(len(rows), 3.5, 0.7)))
        rank = {name: i for i, name in enumerate(SEVERITY_STYLE)}
        cells = pd.DataFrame({"row": sessions, "col": destinations, "what": what, "severity": severity})
        for (row, col), group in cells.groupby(["row", "col"], sort=False):
            i, j = rows.index(row), columns.index(col)
            worst = min(group["severity"], key=lambda s: rank.get(s, len(rank)))
            counts = group["what"].value_counts()
            lines = [f"{plain_label(name, 24)} ×{n}" for name, n in counts.items()]
            _matrix_cell(ax, i, j, SEVERITY_STYLE.get(worst, (OKABE_ITO["grey"], "")), "\n".join(lines), pad=1.5)
        present = [s for s in SEVERITY_STYLE if s in set(severity)]
        _matrix_axes(ax, rows, columns, "session", title, {s: SEVERITY_STYLE[s] for s in present}, "worst severity")
        fit_labels(ax)
    return ax


def _matrix_cell(ax: Axes, i: int, j: int, look: tuple[str, str], text: str, pad: float = 1.0) -> None:
    """Cell (row ``i``, column ``j``) of a matrix figure: its colour and hatch, and ``text`` on white."""
    colour, hatch = look
    ax.add_patch(Rectangle((j, i), 1, 1, facecolor=colour, alpha=0.35, edgecolor="none"))
    ax.add_patch(Rectangle((j, i), 1, 1, facecolor="none", edgecolor=colour, hatch=hatch, linewidth=1))
    ax.text(
        j + 0.5,
        i + 0.5,
        text,
        ha="center",
        va="center",
        fontsize=8,
        clip_on=True,  # a crowded matrix must not write over the row names
        bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.85, "pad": pad},
    )


def _matrix_axes(
    ax: Axes,
    rows: Sequence[str],
    columns: Sequence[str],
    ylabel: str,
    title: str,
    legend: Mapping[str, tuple[str, str]],
    legend_title: str,
) -> None:
    """Grid, row and column names (destinations), titles and the legend of a matrix figure."""
    ax.set_xlim(0, len(columns))
    ax.set_ylim(len(rows), 0)
    ax.set_xticks(
        [j + 0.5 for j in range(len(columns))], [plain_label(c, 28) for c in columns], rotation=30, ha="right"
    )
    ax.set_yticks([i + 0.5 for i in range(len(rows))], [plain_label(r, 28) for r in rows])
    ax.set_xticks(range(len(columns) + 1), minor=True)
    ax.set_yticks(range(len(rows) + 1), minor=True)
    ax.grid(which="minor", color="#dddddd", linewidth=0.8)
    ax.tick_params(which="minor", length=0)
    ax.set_xlabel("destination organisation (or host)")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    handles = [
        Patch(facecolor=colour, alpha=0.6, hatch=hatch, edgecolor=colour, label=name)
        for name, (colour, hatch) in legend.items()
    ]
    ax.legend(handles=handles, title=legend_title, loc="upper left", bbox_to_anchor=(1.01, 1))


#: How a data type was recognised: colour and hatch (most certain first).
METHOD_STYLE: dict[str, tuple[str, str]] = {
    "adapter": (OKABE_ITO["blue"], ""),
    "field name": (OKABE_ITO["orange"], "//"),
    "value shape": (OKABE_ITO["grey"], ".."),
}


def datatype_matrix(
    datatypes: pd.DataFrame,
    *,
    ax: Axes | None = None,
    top: int = 20,
    title: str = "What each organisation received",
) -> Axes:
    """Data types (rows, in the vocabulary's order) against destination organisations (columns).

    A cell gives the number of distinct values of that type the destination received; its colour
    and hatch say how the most certain of them was recognised (adapter, field name, value shape).
    The destination is the row's ``organisation``, or its host when no list knows the owner.

    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from toolkit.schema import TABLES
    >>> table = TABLES["datatypes"].frame({"organisation": ["Xiaomi", "Xiaomi", None],
    ...     "host": ["sa.example", "sa.example", "t.example"], "datatype": ["device_model", "android_id", "email"],
    ...     "value": ["Redmi", "8e5f", "a@b.example"], "method": ["adapter", "adapter", "value shape"]})
    >>> ax = datatype_matrix(table)
    >>> [t.get_text() for t in ax.get_yticklabels()], [t.get_text() for t in ax.get_xticklabels()]
    (['android_id', 'email', 'device_model'], ['Xiaomi', 't.example'])
    >>> import matplotlib.pyplot as plt; plt.close(ax.figure)
    """
    from toolkit.sdk.vocabulary import DATATYPES

    with style():
        ax = _target(ax, (7.5, 5))
        if datatypes.empty:
            return _empty(ax, title, "no data types found")
        destinations, others = _keep_top(_text_column(datatypes, "organisation", "host"), top)
        types = _text_column(datatypes, "datatype")
        order = list(DATATYPES)
        rows = sorted(set(types), key=lambda t: order.index(t) if t in order else len(order))
        columns = _last(destinations.value_counts(sort=True).index.tolist(), others)
        cells = pd.DataFrame(
            {
                "row": types,
                "col": destinations,
                "value": _text_column(datatypes, "value"),
                "method": _text_column(datatypes, "method"),
            }
        )
        rank = {name: i for i, name in enumerate(METHOD_STYLE)}
        for (row, col), group in cells.groupby(["row", "col"], sort=False):
            i, j = rows.index(row), columns.index(col)
            best = min(group["method"], key=lambda m: rank.get(m, len(rank)))
            _matrix_cell(ax, i, j, METHOD_STYLE.get(best, (OKABE_ITO["grey"], "")), f"{group['value'].nunique()}")
        present = [m for m in METHOD_STYLE if m in set(cells["method"])]
        legend = {m: METHOD_STYLE[m] for m in present}
        _matrix_axes(ax, rows, columns, "data type", title, legend, "recognised by (count: distinct values)")
    return ax


def _organisations_by_host(endpoints: pd.DataFrame | None) -> tuple[dict[str, str], dict[str, str]]:
    if endpoints is None or endpoints.empty:
        return {}, {}
    owner = _text_column(endpoints, "organisation", "registrable_domain", "host")
    hosts = endpoints["host"].astype("string").fillna(_UNKNOWN)
    roles = _text_column(endpoints, "role")
    return dict(zip(hosts, owner, strict=True)), dict(zip(owner, roles, strict=True))


def request_timeline(
    requests: pd.DataFrame,
    *,
    endpoints: pd.DataFrame | None = None,
    leaks: pd.DataFrame | None = None,
    ax: Axes | None = None,
    top: int = 30,
    title: str = "Requests per organisation over time",
) -> Axes:
    """One swimlane per destination organisation, a tick per request, a cross per leak.

    Organisations come from ``endpoints`` (joined on host; the host itself when unknown); the
    lane's colour and marker give the organisation's role. The ``top`` organisations (those that
    received leaks first, then by requests) get a lane each; the rest share one, ``(N others)``.

    >>> from toolkit.schema import TABLES
    >>> requests = TABLES["requests"].frame({"ts": ["2020-04-30T09:00:00Z", "2020-04-30T09:00:05Z"],
    ...                                      "host": ["sa.api.intl.miui.com", "www.example.org"]})
    >>> ax = request_timeline(requests)  # without endpoints=, the hosts are classified here
    >>> [t.get_text() for t in ax.get_yticklabels()]
    ['Xiaomi', 'example.org']

    >>> plt.close(ax.figure)
    """
    with style():
        if requests.empty:
            return _empty(_target(ax, (8.0, 3.8)), title, "no requests")
        if endpoints is None:  # classify here, or every lane would be grey "unknown"
            from toolkit.endpoints import classify

            endpoints = classify(requests)
        owner_of, role_of = _organisations_by_host(endpoints)
        leaks = None if leaks is None else sent_by_device(leaks)
        owners, leak_owners, lanes = _timeline_lanes(requests, leaks, owner_of, top)
        lane = {name: i for i, name in enumerate(lanes)}
        ax = _target(ax, (8.0, _lines_for(len(lanes), 3.8)))
        times = _utc_naive(requests["ts"])
        y = owners.map(lane).to_numpy()
        roles = np.array([role_of.get(o, "unknown") for o in owners])
        for role, (colour, _hatch, _marker) in ROLE_STYLE.items():
            chosen = roles == role
            if chosen.any():
                ax.scatter(
                    times[chosen],
                    y[chosen],
                    marker="|",
                    s=160,
                    linewidths=1.6,
                    color=colour,
                    label=f"request to {role.replace('_', ' ')}",
                )
        if len(leak_owners):
            assert leaks is not None
            ax.scatter(
                _utc_naive(leaks["ts"]),
                [lane[o] for o in leak_owners],
                marker="X",
                s=70,
                facecolor=OKABE_ITO["vermillion"],
                edgecolor="black",
                linewidths=0.7,
                zorder=3,
                label="leak",
            )
        _timeline_axes(ax, lanes, title)
    return ax


def _timeline_lanes(
    requests: pd.DataFrame, leaks: pd.DataFrame | None, owner_of: Mapping[str, str], top: int
) -> tuple[pd.Series, pd.Series, list[str]]:
    """The lane of each request and of each leak (its organisation, or the shared ``(N others)``),
    and the lanes top to bottom: by first request, then those with leaks only, the others last."""
    hosts = requests["host"].astype("string").fillna(_UNKNOWN)
    owners = pd.Series([owner_of.get(h, h) for h in hosts], index=requests.index, dtype=object)
    leak_owners = pd.Series([], dtype=object)
    if leaks is not None and not leaks.empty:
        fallback = _text_column(leaks, "organisation", "host")
        leak_hosts = leaks["host"].astype("string").fillna(_UNKNOWN)
        leak_owners = pd.Series([owner_of.get(h, f) for h, f in zip(leak_hosts, fallback, strict=True)], dtype=object)
    everyone = pd.concat([owners, leak_owners], ignore_index=True)
    weight = pd.Series([1] * len(owners) + [1_000_000] * len(leak_owners))
    merged, others = _keep_top(everyone, top, weight)
    owners = pd.Series(merged.iloc[: len(owners)].to_numpy(), index=requests.index)
    leak_owners = merged.iloc[len(owners) :]
    lanes = _in_order(owners.loc[requests["ts"].sort_values().index])
    lanes = _last(lanes + [o for o in dict.fromkeys(leak_owners) if o not in lanes], others)
    return owners, leak_owners, lanes


def _timeline_axes(ax: Axes, lanes: Sequence[str], title: str) -> None:
    """Lane names and stripes, the time axis, title and legend of a request timeline."""
    ax.set_yticks(range(len(lanes)), [plain_label(name, 30) for name in lanes])
    ax.set_ylim(len(lanes) - 0.5, -0.5)
    for i in range(len(lanes)):
        ax.axhline(i, color="#eeeeee", linewidth=6, zorder=0)
    locator = AutoDateLocator()
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))
    ax.set_xlabel("time (UTC)")
    ax.set_ylabel("destination organisation (or host)")
    ax.set_title(title)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1))
    fit_labels(ax)


def bytes_by_organisation(
    endpoints: pd.DataFrame,
    *,
    ax: Axes | None = None,
    top: int = 20,
    title: str = "Bytes per organisation and role",
) -> Axes:
    """Bytes sent to (solid) and received from (hatched) each organisation, coloured by role.

    Hosts are grouped by ``organisation`` (the registrable domain when no list knows the
    owner) and role; the ``top`` groups by total bytes are drawn, largest first.

    >>> from toolkit.schema import TABLES
    >>> endpoints = TABLES["endpoints"].frame({"host": ["sa.api.intl.miui.com"], "organisation": ["Xiaomi"],
    ...     "role": ["platform"], "bytes_up": [6031], "bytes_down": [1944]})
    >>> ax = bytes_by_organisation(endpoints)
    >>> [t.get_text() for t in ax.get_yticklabels()], [float(p.get_width()) for p in ax.patches]
    (['Xiaomi (platform)'], [6031.0, 1944.0])

    >>> plt.close(ax.figure)
    """
    with style():
        if endpoints.empty:
            return _empty(_target(ax, (7.5, 3.8)), title, "no endpoints")
        frame = pd.DataFrame(
            {
                "owner": _text_column(endpoints, "organisation", "registrable_domain", "host"),
                "role": _text_column(endpoints, "role").replace(_UNKNOWN, "unknown"),
                "up": endpoints["bytes_up"].astype("Float64").fillna(0).to_numpy(dtype=float),
                "down": endpoints["bytes_down"].astype("Float64").fillna(0).to_numpy(dtype=float),
            }
        )
        groups = frame.groupby(["owner", "role"], sort=False)[["up", "down"]].sum()
        groups = groups.assign(total=groups["up"] + groups["down"]).sort_values("total", ascending=False)
        groups = groups.head(top)
        ax = _target(ax, (7.5, _lines_for(len(groups), 3.8)))
        labels = [f"{plain_label(owner, 28)} ({role.replace('_', ' ')})" for owner, role in groups.index]
        positions = np.arange(len(groups))
        for k, ((_owner, role), row) in enumerate(groups.iterrows()):
            colour, _hatch, _marker = ROLE_STYLE.get(role, ROLE_STYLE["unknown"])
            ax.barh(k, row["up"], color=colour, edgecolor="black", linewidth=0.5)
            ax.barh(
                k,
                row["down"],
                left=row["up"],
                facecolor="white",
                edgecolor=colour,
                hatch="////",
                linewidth=0.8,
            )
        ax.set_yticks(positions, labels)
        ax.set_ylim(len(groups) - 0.5, -0.5)
        ax.xaxis.set_major_formatter(FuncFormatter(_bytes_text))
        ax.set_xlabel("bytes (solid: sent by the device, hatched: received)")
        ax.set_title(title)
        roles = list(dict.fromkeys(r for _o, r in groups.index))
        handles = [
            Patch(
                facecolor=ROLE_STYLE.get(r, ROLE_STYLE["unknown"])[0],
                edgecolor="black",
                label=r.replace("_", " "),
            )
            for r in roles
        ]
        handles += [
            Patch(facecolor="#444444", edgecolor="black", label="sent"),
            Patch(facecolor="white", edgecolor="grey", hatch="////", label="received"),
        ]
        ax.legend(handles=handles, loc="lower right")
        fit_labels(ax)
    return ax


def _sessions_list(value: Any) -> list[str]:
    if value is None or value is pd.NA or isinstance(value, float):
        return []
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value]


def identifier_persistence(
    identifiers: pd.DataFrame,
    *,
    ax: Axes | None = None,
    sessions: Sequence[str] | None = None,
    mask: Callable[[str], str] | None = None,
    top: int = 40,
    title: str = "Identifiers across sessions",
) -> Axes:
    """Which identifier was seen in which session: a row per identifier, a column per session.

    Marks are joined by a line where an identifier survives from one session to the next; the
    mark's shape and colour give its persistence class. ``mask`` replaces each value by its
    published label (see :class:`toolkit.report.masking.Masker`). With more than ``top``
    identifiers, the most persistent ``top`` are drawn (and the title says so).

    >>> from toolkit.schema import TABLES
    >>> ids = TABLES["identifiers"].frame({"value": ["8e5fbce04dc91566"], "kind": ["android_id"],
    ...     "sessions": [["normal", "incognito"]], "persistence": ["across_modes"]})
    >>> ax = identifier_persistence(ids, mask=lambda value: "ID-1")
    >>> [t.get_text() for t in ax.get_yticklabels()], [t.get_text() for t in ax.get_xticklabels()]
    (['ID-1 [android_id]'], ['normal', 'incognito'])

    >>> plt.close(ax.figure)
    """
    with style():
        if identifiers.empty:
            return _empty(_target(ax, (7.0, 3.2)), title, "no identifiers")
        if len(identifiers) > top:
            title = f"{title} (the {top} most persistent of {len(identifiers)})"
            identifiers = _most_persistent(identifiers, top)
        per_row = [_sessions_list(v) for v in identifiers["sessions"]]
        columns = list(sessions) if sessions is not None else list(dict.fromkeys(s for row in per_row for s in row))
        column = {name: j for j, name in enumerate(columns)}
        ax = _target(ax, (max(7.0, 3.5 + 1.1 * len(columns)), _lines_for(len(identifiers), 3.2)))
        values = identifiers["value"].astype("string").fillna(_UNKNOWN)
        kinds = _text_column(identifiers, "kind")
        persistence = _text_column(identifiers, "persistence")
        labels = []
        for i, (value, kind, persists, present) in enumerate(zip(values, kinds, persistence, per_row, strict=True)):
            shown = mask(value) if mask is not None else value
            labels.append(f"{plain_label(shown, 26)} [{plain_label(kind, 16)}]")
            xs = sorted(column[s] for s in present if s in column)
            colour, marker = _PERSISTENCE_STYLE.get(persists, (OKABE_ITO["grey"], "o"))
            if len(xs) > 1:
                ax.plot(xs, [i] * len(xs), color=colour, linewidth=2, zorder=1)
            ax.scatter(
                xs,
                [i] * len(xs),
                marker=marker,
                s=60,
                color=colour,
                edgecolor="black",
                linewidths=0.6,
                zorder=2,
            )
        ax.set_xticks(range(len(columns)), [plain_label(c, 30) for c in columns])
        ax.set_yticks(range(len(labels)), labels)
        ax.set_xlim(-0.5, max(len(columns), 1) - 0.5)
        ax.set_ylim(len(labels) - 0.5, -0.5)
        ax.set_xlabel("session")
        ax.set_title(title)
        _persistence_legend(ax, persistence)
        fit_labels(ax)
    return ax


def _most_persistent(identifiers: pd.DataFrame, top: int) -> pd.DataFrame:
    """The ``top`` rows of ``identifiers`` by persistence class (most persistent first), then by
    the number of sessions."""
    order = list(_PERSISTENCE_STYLE)[::-1]
    rank = [order.index(p) if p in order else len(order) for p in _text_column(identifiers, "persistence")]
    spread = [-len(_sessions_list(v)) for v in identifiers["sessions"]]
    keys = pd.DataFrame({"rank": rank, "spread": spread}, index=identifiers.index)
    return identifiers.loc[keys.sort_values(["rank", "spread"], kind="stable").index[:top]]


def _persistence_legend(ax: Axes, persistence: pd.Series) -> None:
    """A legend entry per persistence class present, in the order of :data:`_PERSISTENCE_STYLE`."""
    present_classes = [p for p in _PERSISTENCE_STYLE if p in set(persistence)]
    ax.legend(
        handles=[
            Line2D(
                [],
                [],
                marker=_PERSISTENCE_STYLE[p][1],
                color=_PERSISTENCE_STYLE[p][0],
                markeredgecolor="black",
                linestyle="",
                label=p.replace("_", " "),
            )
            for p in present_classes
        ],
        title="persistence",
        loc="upper left",
        bbox_to_anchor=(1.01, 1),
    )


def decryption_coverage(
    flows: pd.DataFrame,
    *,
    by: Literal["app", "host"] = "app",
    weight: Literal["flows", "bytes"] = "flows",
    ax: Axes | None = None,
    top: int = 30,
    title: str | None = None,
) -> Axes:
    """How much of each app's (or host's) encrypted traffic the toolkit could read.

    Counts TLS and QUIC flows (and plain HTTP, shown as ``plaintext``) per app or per host name,
    split by :func:`toolkit.coverage.flow_status` (the statuses the coverage table counts, with
    plain HTTP beside them); ``weight="bytes"`` weighs them by
    bytes in both directions. The share readable (decrypted or plaintext) is written at the end
    of each bar. The ``top`` apps or hosts by weight get a bar each; the rest share one, ``(N others)``.

    >>> from toolkit.schema import TABLES
    >>> flows = TABLES["flows"].frame({"app": ["com.mi.globalbrowser.mini"] * 2, "protocol": ["tls", "quic"],
    ...     "decrypted": [True, False], "not_decrypted_reason": [None, "QUIC"]})
    >>> ax = decryption_coverage(flows)
    >>> [t.get_text() for t in ax.texts]
    [' 50% readable']

    >>> plt.close(ax.figure)
    """
    title = title or f"Decryption coverage per {by}"
    with style():
        frame = flows[flows["protocol"].astype("string").isin(READABLE).fillna(False).to_numpy()]
        if frame.empty:
            return _empty(_target(ax, (7.5, 3.5)), title, "no TLS, QUIC or HTTP flows")
        pivot = _coverage_pivot(frame, by, weight, top)
        ax = _target(ax, (7.5, _lines_for(len(pivot), 3.5)))
        left = _coverage_bars(ax, pivot)
        readable = sum(pivot[s].to_numpy(dtype=float) for s in ("decrypted", "plaintext") if s in pivot.columns)
        for k, total in enumerate(left):
            share = float(readable[k] / total) if total and not isinstance(readable, int) else 0.0
            ax.text(total, k, f" {share:.0%} readable", va="center", fontsize=8, parse_math=False)
        ax.set_yticks(np.arange(len(pivot)), [plain_label(k, 30) for k in pivot.index])
        ax.set_ylim(len(pivot) - 0.5, -0.5)
        ax.set_xlim(0, float(left.max()) * 1.25 if left.max() else 1)
        if weight == "bytes":
            ax.xaxis.set_major_formatter(FuncFormatter(_bytes_text))
        ax.set_xlabel("bytes" if weight == "bytes" else "flows")
        ax.set_ylabel(by)
        ax.set_title(title)
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1))
        fit_labels(ax)
    return ax


def _coverage_pivot(
    frame: pd.DataFrame, by: Literal["app", "host"], weight: Literal["flows", "bytes"], top: int
) -> pd.DataFrame:
    """Flows (or bytes) per app or host and decryption status, a row per bar, heaviest first and
    the shared ``(N others)`` last."""
    key = _text_column(frame, "app") if by == "app" else _text_column(frame, "hostname", "server_ip")
    amount = (
        frame["bytes_up"].astype("Float64").fillna(0) + frame["bytes_down"].astype("Float64").fillna(0)
        if weight == "bytes"
        else pd.Series(1.0, index=frame.index)
    )
    key, others = _keep_top(pd.Series(key.to_numpy()), top, pd.Series(amount.to_numpy(dtype=float)))
    table = pd.DataFrame(
        {
            "key": key.to_numpy(),
            "status": flow_status(frame).to_numpy(),
            "amount": amount.to_numpy(dtype=float),
        }
    )
    pivot = table.pivot_table(index="key", columns="status", values="amount", aggfunc="sum", fill_value=0.0)
    return pivot.loc[_last(pivot.sum(axis=1).sort_values(ascending=False).index.tolist(), others)]


def _coverage_bars(ax: Axes, pivot: pd.DataFrame) -> np.ndarray:
    """Stacked bars of ``pivot``: decrypted, plaintext, then each reason not decrypted; returns
    each bar's total."""
    statuses = [s for s in ("decrypted", "plaintext") if s in pivot.columns]
    statuses += sorted(s for s in pivot.columns if s not in statuses)
    left = np.zeros(len(pivot))
    extra = 0
    for status in statuses:
        if status in _STATUS_STYLE:
            colour, hatch = _STATUS_STYLE[status]
        else:
            colour, hatch = (
                _NOT_DECRYPTED_COLOURS[extra % len(_NOT_DECRYPTED_COLOURS)],
                _NOT_DECRYPTED_HATCHES[extra % len(_NOT_DECRYPTED_HATCHES)],
            )
            extra += 1
        widths = pivot[status].to_numpy(dtype=float)
        ax.barh(
            np.arange(len(pivot)),
            widths,
            left=left,
            color=colour,
            hatch=hatch,
            edgecolor="black",
            linewidth=0.5,
            label=plain_label(status, 40),
        )
        left += widths
    return left


def chain_steps(leak: Mapping[str, Any] | pd.Series) -> list[str]:
    """The steps from the request to the needle, as drawn by :func:`encoding_chain`.

    >>> chain_steps({"host": "sa.example", "location": "body", "chain": "form:data_list > base64 > gzip",
    ...              "needle_kind": "url", "matched_form": "url"})  # doctest: +NORMALIZE_WHITESPACE
    ['request to sa.example', 'body', 'form field data_list', 'base64-decode (base64)', 'gunzip (gzip)',
     'found: url (as url)']
    """

    def get(name: str) -> str | None:
        value = leak.get(name)
        return None if value is None or value is pd.NA or isinstance(value, float) else str(value)

    location = get("location")
    steps = [f"request to {get('host') or _UNKNOWN}"]
    location_step = describe_step(location) if location else None
    if location_step:
        steps.append(location_step)
    chain = get("chain") or ""
    steps += [describe_step(s) for s in chain.split(" > ") if s.strip()]
    steps.append(f"found: {get('needle_kind') or 'needle'} (as {get('matched_form') or 'is'})")
    return steps


def encoding_chain(
    leak: Mapping[str, Any] | pd.Series,
    *,
    ax: Axes | None = None,
    title: str | None = None,
) -> Axes:
    """The decoding steps that turned one request into a leak, drawn top to bottom.

    ``leak`` is one row of the ``leaks`` table. The first box is the request, the next its
    location (body, header, query parameter), then each layer of the ``chain`` with what undoing
    it means, and last the needle found.

    >>> leak = {"host": "sa.api.intl.miui.com", "location": "body", "chain": "form:data_list > gzip",
    ...         "needle_kind": "url", "matched_form": "url"}
    >>> ax = encoding_chain(leak)
    >>> ax.get_title(), len(ax.patches)  # five boxes, four arrows
    ('How it reached sa.api.intl.miui.com', 9)

    >>> plt.close(ax.figure)
    """
    steps = chain_steps(leak)
    with style():
        ax = _target(ax, (5.5, 0.75 * len(steps) + 0.8))
        host = leak.get("host")
        title = title or f"How it reached {plain_label(host, 40)}"
        ax.set_xlim(0, 1)
        ax.set_ylim(len(steps) - 0.4, -0.6)
        ax.axis("off")
        for i, step in enumerate(steps):
            last = i == len(steps) - 1
            colour = OKABE_ITO["vermillion"] if last else (OKABE_ITO["blue"] if i == 0 else OKABE_ITO["sky_blue"])
            ax.add_patch(
                FancyBboxPatch(
                    (0.08, i - 0.3),
                    0.84,
                    0.6,
                    boxstyle="round,pad=0.02",
                    facecolor="white",
                    edgecolor=colour,
                    linewidth=2 if last or i == 0 else 1.2,
                    hatch="//" if last else None,
                )
            )
            ax.text(
                0.5,
                i,
                plain_label(step, 60),
                ha="center",
                va="center",
                fontsize=9,
                bbox={"facecolor": "white", "edgecolor": "none", "pad": 1},
            )
            ax.text(0.04, i, str(i + 1), ha="center", va="center", fontsize=8, color="#555555")
            if not last:
                ax.add_patch(
                    FancyArrowPatch(
                        (0.5, i + 0.32),
                        (0.5, i + 0.68),
                        arrowstyle="-|>",
                        mutation_scale=12,
                        color="black",
                        linewidth=1,
                    )
                )
        ax.set_title(title)
    return ax
