"""Small inline SVG line charts for the HTML report (no image files, no plotting library)."""

import html
import math

COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b")


def _nice_ticks(low, high, count=5):
    """About `count` round tick values covering [low, high]."""
    if not math.isfinite(low) or not math.isfinite(high):
        return [0.0, 1.0]
    if high <= low:
        high = low + (abs(low) or 1.0)
    raw = (high - low) / max(count - 1, 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    start, stop = math.floor(low / step), math.ceil(high / step)
    ticks = [round(i * step, 12) for i in range(start, max(stop, start + 1) + 1)]
    return ticks


def _label(value):
    return f"{value:.3g}"


def line_chart(series, *, title, x_label, y_label="", marker_x=None, width=360, height=220):
    """An SVG line chart.

    Args:
        series: list of (name, xs, ys); None or NaN values are skipped (gaps).
        title, x_label, y_label: texts (escaped here).
        marker_x: optional x drawn as a dashed vertical line (e.g. the chosen threshold).
        width, height: size in pixels.

    Returns:
        str: an `<svg>` element, or "" when no series has a finite point.
    """
    points = [[(float(x), float(y)) for x, y in zip(xs, ys)
               if x is not None and y is not None and math.isfinite(float(x)) and math.isfinite(float(y))]
              for _, xs, ys in series]
    finite = [p for line in points for p in line]
    if not finite:
        return ""
    x_ticks = _nice_ticks(min(p[0] for p in finite), max(p[0] for p in finite))
    y_ticks = _nice_ticks(min(p[1] for p in finite), max(p[1] for p in finite))
    left, right, top, bottom = 48, 12, 36, 36
    plot_w, plot_h = width - left - right, height - top - bottom

    def sx(x):
        return left + (x - x_ticks[0]) / (x_ticks[-1] - x_ticks[0]) * plot_w

    def sy(y):
        return top + plot_h - (y - y_ticks[0]) / (y_ticks[-1] - y_ticks[0]) * plot_h

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" role="img" aria-label="{html.escape(title)}">',
           f'<text x="{width / 2:.0f}" y="14" text-anchor="middle" class="title">{html.escape(title)}</text>']
    for x in x_ticks:
        out.append(f'<line x1="{sx(x):.1f}" y1="{top}" x2="{sx(x):.1f}" y2="{top + plot_h}" class="grid"/>'
                   f'<text x="{sx(x):.1f}" y="{top + plot_h + 14}" text-anchor="middle">{_label(x)}</text>')
    for y in y_ticks:
        out.append(f'<line x1="{left}" y1="{sy(y):.1f}" x2="{left + plot_w}" y2="{sy(y):.1f}" class="grid"/>'
                   f'<text x="{left - 4}" y="{sy(y) + 4:.1f}" text-anchor="end">{_label(y)}</text>')
    out.append(f'<text x="{left + plot_w / 2:.0f}" y="{height - 4}" text-anchor="middle">{html.escape(x_label)}</text>')
    if y_label:
        out.append(f'<text x="12" y="{top + plot_h / 2:.0f}" text-anchor="middle" '
                   f'transform="rotate(-90 12 {top + plot_h / 2:.0f})">{html.escape(y_label)}</text>')
    if marker_x is not None and x_ticks[0] <= marker_x <= x_ticks[-1]:
        out.append(f'<line x1="{sx(marker_x):.1f}" y1="{top}" x2="{sx(marker_x):.1f}" y2="{top + plot_h}" '
                   'class="marker"/>')
    for index, ((name, _, _), line) in enumerate(zip(series, points)):
        colour = COLOURS[index % len(COLOURS)]
        if len(line) > 1:
            path = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in line)
            out.append(f'<polyline fill="none" stroke="{colour}" stroke-width="1.8" points="{path}"/>')
        out += [f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="2" fill="{colour}"/>' for x, y in line]
        out.append(f'<text x="{left + 80 * index}" y="{top - 8}" fill="{colour}">&#9644; {html.escape(str(name))}</text>')
    out.append("</svg>")
    return "\n".join(out)
