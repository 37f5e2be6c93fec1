"""The self-host bench chart: throughput and USD per million tokens against concurrency (values in, a file out)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from satisfice.formatting import number_tick
from satisfice.reports.charts import _figure, _save, log_axis


def selfhost_chart(levels: Sequence[dict[str, Any]], path: str | Path, *, title: str,
                   best_concurrency: int | None = None) -> Path:
    """Two panels over concurrency (log scale): output and input tokens/s; $/M input, output and blended.

    ``levels`` are the rows of a bench result's JSON (``concurrency``, ``output_tokens_per_s``, ``usd_per_m_*``).
    """
    from matplotlib.ticker import FuncFormatter, NullFormatter

    fig, left = _figure(12.0, 5.5)
    right = fig.add_subplot(1, 2, 2)
    left.set_position((0.07, 0.27, 0.38, 0.6))  # room below each panel for its legend
    right.set_position((0.57, 0.27, 0.38, 0.6))
    xs = [lv["concurrency"] for lv in levels]
    for key, label, colour in (("output_tokens_per_s", "output tokens/s", "#1f5fbf"),
                               ("input_tokens_per_s", "input tokens/s", "#e07b00")):
        left.plot(xs, [lv[key] for lv in levels], marker="o", color=colour, label=label)
    left.set_ylabel("tokens per second")
    left.set_title("Throughput", loc="left")
    for key, label, colour in (("usd_per_m_output", "$/M output", "#1f5fbf"),
                               ("usd_per_m_input", "$/M input", "#e07b00"),
                               ("usd_per_m_blended", "$/M blended 3:1", "#2ca02c")):
        points = [(x, lv[key]) for x, lv in zip(xs, levels, strict=True) if lv[key] is not None]
        if points:
            right.plot([p[0] for p in points], [p[1] for p in points], marker="o", color=colour, label=label)
    right.set_ylabel("USD per million tokens")
    right.set_title("Price at this throughput", loc="left")
    right.grid(True, which="major", color="#dddddd", linewidth=0.7)
    if any(lv[k] for lv in levels for k in ("usd_per_m_output", "usd_per_m_input", "usd_per_m_blended")):
        log_axis(right)
    left.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: number_tick(v)))
    for ax in (left, right):
        ax.set_xscale("log", base=2)
        ax.set_xticks(xs, [str(x) for x in xs])
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel("concurrent requests")
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=3, frameon=False, fontsize=8)
        if best_concurrency is not None:
            ax.axvline(best_concurrency, color="#888888", linestyle=":", linewidth=1)
    fig.suptitle(title, fontsize=11)
    return _save(fig, path)


__all__ = ["selfhost_chart"]
