"""The results table: every figure with its baseline, their ratio, and the target it is held to."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

Value = float | int | str | bool | None


@dataclass(slots=True)
class Figure:
    scenario: str
    name: str
    hubbub: Value
    baseline: Value = None
    unit: str = ""
    target: str = ""  # e.g. "ratio >= 1.0"
    met: bool | None = None  # None: no target
    note: str = ""
    ratio: float | None = field(default=None)

    def __post_init__(self) -> None:
        if (
            self.ratio is None
            and self.unit != "x"
            and _number(self.hubbub)
            and _number(self.baseline)
            and self.baseline
        ):
            self.ratio = float(self.hubbub) / float(self.baseline)  # type: ignore[arg-type]


def _number(value: Value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and not math.isnan(value)


def at_least(value: float | None, bound: float) -> bool | None:
    return None if value is None or math.isnan(value) else value >= bound


def at_most(value: float | None, bound: float) -> bool | None:
    return None if value is None or math.isnan(value) else value <= bound


def _format(value: Value, unit: str) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "NO"
    if isinstance(value, str):
        return value
    if math.isnan(value):
        return "n/a"
    if unit == "ms":
        return f"{value * 1e3:.2f} ms"
    if unit == "KiB":
        return f"{value / 1024:.1f} KiB"
    if unit == "MiB":
        return f"{value / 2**20:.1f} MiB"
    if unit == "%":
        return f"{value:.0f} %"
    if unit == "s":
        return f"{value:.2f} s"
    if unit == "/s":
        return f"{value:,.0f}/s"
    if unit == "x":
        return f"{value:.2f}×"
    return f"{value:,.0f}" if abs(value) >= 100 or float(value).is_integer() else f"{value:.3g}"


def _status(figure: Figure) -> str:
    if figure.met is None:
        return "n/a" if figure.target else ""
    return "met" if figure.met else "MISSED"


def table(figures: Sequence[Figure]) -> str:
    """A Markdown table, one row per figure."""
    header = ["scenario", "figure", "Hubbub", "baseline", "ratio", "target", "status"]
    rows = [header, ["---"] * len(header)]
    for f in figures:
        ratio = "" if f.ratio is None or math.isnan(f.ratio) else f"{f.ratio:.2f}×"
        name = f"{f.name} ({f.note})" if f.note else f.name
        rows.append(
            [
                f.scenario,
                name,
                _format(f.hubbub, f.unit),
                _format(f.baseline, f.unit),
                ratio,
                f.target,
                _status(f),
            ]
        )
    return "\n".join("| " + " | ".join(row) + " |" for row in rows) + "\n"


def summary(figures: Sequence[Figure]) -> str:
    targets = [f for f in figures if f.target]
    met = [f for f in targets if f.met]
    missed = [f for f in targets if f.met is False]
    lines = [f"targets: {len(met)} met, {len(missed)} missed, {len(targets) - len(met) - len(missed)} n/a"]
    lines += [f"  MISSED {f.scenario}: {f.name} — {f.target}, got {_format_ratio(f)}" for f in missed]
    return "\n".join(lines) + "\n"


def _format_ratio(figure: Figure) -> str:
    if figure.ratio is not None:
        return f"{figure.ratio:.2f}×"
    return _format(figure.hubbub, figure.unit)


def save_json(figures: Sequence[Figure], path: Path, meta: dict[str, object]) -> None:
    data = {"meta": meta, "figures": [asdict(f) for f in figures]}
    path.write_text(json.dumps(data, indent=2, default=str))
