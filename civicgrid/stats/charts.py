"""Charts drawn on the server as SVG geometry (the template writes the <svg>): no JavaScript library, no
network, printable, and the numbers are in the markup for screen readers and tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from civicgrid.stats.figures import Counts, rate

WIDTH, HEIGHT, TOP, BOTTOM, LEFT = 640, 220, 16, 28, 8


@dataclass(frozen=True)
class Bar:
    label: str  # "2026-10"
    value: int
    x: float
    y: float
    width: float
    height: float
    rate_percent: float | None  # 结案率 of the month's cohort
    rate_y: float | None


@dataclass(frozen=True)
class BarChart:
    width: int
    height: int
    bars: list[Bar]
    maximum: int
    baseline: float

    @property
    def rate_points(self) -> str:
        """The polyline of the closing rate (0–100 % over the chart's height)."""
        return " ".join(f"{b.x + b.width / 2:.1f},{b.rate_y:.1f}" for b in self.bars if b.rate_y is not None)


def monthly_bars(series: dict[date, Counts]) -> BarChart:
    """Received per month as bars, with the month's closing rate as a line."""
    months = list(series)
    maximum = max((series[m]["received"] for m in months), default=0) or 1
    inner = HEIGHT - TOP - BOTTOM
    slot = (WIDTH - 2 * LEFT) / max(len(months), 1)
    bars = []
    for i, month in enumerate(months):
        counts = series[month]
        h = inner * counts["received"] / maximum
        percent = rate(counts, "close_rate").percent
        bars.append(
            Bar(
                label=f"{month:%Y-%m}",
                value=counts["received"],
                x=LEFT + i * slot + slot * 0.15,
                y=TOP + inner - h,
                width=slot * 0.7,
                height=h,
                rate_percent=percent,
                rate_y=None if percent is None else TOP + inner * (1 - percent / 100),
            )
        )
    return BarChart(WIDTH, HEIGHT, bars, maximum, TOP + inner)
