#!/usr/bin/python3
"""Draws one PNG per benchmark CSV (bench/out/GROUP.csv -> OUTDIR/GROUP.png).

Each CSV row is chart,category,series,median,min,max: one panel per chart,
grouped bars (a bar per series within each category) at the median, with a
min-max error bar.
Usage: bench/chart.py OUTDIR CSV...
"""
import csv
import sys
from collections import OrderedDict
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def panels(path):
    charts = OrderedDict()
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            rows = charts.setdefault(row["chart"], [])
            rows.append((row["category"], row["series"],
                         *(float(row[k]) for k in ("median", "min", "max"))))
    return charts


def draw(ax, title, rows):
    categories = list(OrderedDict.fromkeys(r[0] for r in rows))
    series = list(OrderedDict.fromkeys(r[1] for r in rows))
    width = 0.8 / len(series)
    for i, name in enumerate(series):
        xs, med, err = [], [], [[], []]
        for category, s, m, lo, hi in rows:
            if s == name:
                xs.append(categories.index(category) + (i - (len(series) - 1) / 2) * width)
                med.append(m)
                err[0].append(m - lo)
                err[1].append(hi - m)
        ax.bar(xs, med, width, yerr=err, capsize=2, label=name)
    ax.set_title(title, fontsize=10)
    ax.set_xticks(range(len(categories)))
    ax.set_xticklabels(categories, rotation=30, ha="right", fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=7)


def main():
    outdir = Path(sys.argv[1])
    for path in sys.argv[2:]:
        charts = panels(path)
        cols = 2 if len(charts) > 1 else 1
        nrows = (len(charts) + cols - 1) // cols
        fig, axes = plt.subplots(nrows, cols, figsize=(6 * cols, 3.6 * nrows), squeeze=False)
        for ax, (title, rows) in zip(axes.flat, charts.items()):
            draw(ax, title, rows)
        for ax in list(axes.flat)[len(charts):]:
            ax.axis("off")
        fig.suptitle(Path(path).stem + " (median of the runs, bars: min-max)")
        fig.tight_layout()
        fig.savefig(outdir / (Path(path).stem + ".png"), dpi=80)
        plt.close(fig)


if __name__ == "__main__":
    main()
