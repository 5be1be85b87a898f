"""What a backtest tells: per variant its hides and alerts, against the baseline what changed, and with a truth
file how each incident was detected (the scoring of ``monitor score``). JSON for scripts, Markdown for people,
a PNG chart."""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from monitor.backtest.summary import Pass, VariantRun
from monitor.domain.outputs import iso_from_ms
from monitor.toolkit.score import score

__all__ = ["TruthError", "load_truth", "build_report", "write_markdown", "write_chart"]

LIST_MAX = 20  # stores or hides listed in the Markdown per section (the JSON has them all)
# the alert kinds an incident can name: the per-order ones are too many to keep for scoring
_KINDS = ("store_hidden", "store_negativity", "city_negativity", "store_repeat_offender", "city_lateness")
_EXPECT = ("hide", "alert", "no_alert")


class TruthError(ValueError):
    """The truth file cannot be used; the message names the incident and the field."""


def load_truth(path: Path) -> list[dict[str, Any]]:
    """A generator's ``*.truth.json``, or incidents labelled by hand in the same shape (docs/replay.md)."""
    try:
        doc = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError) as exc:
        raise TruthError(f"{path}: cannot read a JSON list of incidents ({exc})") from None
    if not isinstance(doc, list):
        raise TruthError(f"{path}: expected a JSON list of incidents")
    for i, inc in enumerate(doc):
        where = f"{path}: incident {i + 1}"
        if not isinstance(inc, dict):
            raise TruthError(f"{where}: not an object")
        for key in ("kind", "city", "start", "end", "expect"):
            if not isinstance(inc.get(key), str) or not inc[key]:
                raise TruthError(f"{where}: {key!r} is missing (a non-empty string)")
        if inc.get("store_id") == "":
            inc["store_id"] = None  # a city-wide incident
        if inc["expect"] not in _EXPECT:
            raise TruthError(f"{where}: expect must be one of {', '.join(_EXPECT)}, not {inc['expect']!r}")
        if inc["expect"] == "hide":
            inc.setdefault("alert_kind", "store_hidden")
            if not inc.get("store_id"):
                raise TruthError(f"{where}: a hide needs a store_id")
        elif inc.get("alert_kind") not in _KINDS:
            raise TruthError(f"{where}: alert_kind must be one of {', '.join(_KINDS)}")
        for key in ("start", "end"):
            try:
                t = datetime.fromisoformat(inc[key])
            except ValueError:
                t = None
            if t is None or t.utcoffset() is None:
                raise TruthError(f"{where}: {key} must be ISO 8601 with a UTC offset, not {inc[key]!r}")
        if datetime.fromisoformat(inc["end"]) <= datetime.fromisoformat(inc["start"]):
            raise TruthError(f"{where}: end is not after start")
    return doc


def _first_hides(run: VariantRun) -> dict[str, str]:
    first: dict[str, str] = {}
    for h in run.hides:
        store = f"{h['store_id']} ({h['city']})"
        if store not in first or h["at"] < first[store]:
            first[store] = h["at"]
    return first


def _kind_counts(ids: set[str]) -> dict[str, int]:
    return dict(sorted(Counter(i.split(":", 1)[0] for i in ids).items()))


def _compare(run: VariantRun, base: VariantRun) -> dict[str, Any]:
    mine, theirs = _first_hides(run), _first_hides(base)
    shifts: list[dict[str, Any]] = []
    for store in sorted(set(mine) & set(theirs)):
        delta = (datetime.fromisoformat(mine[store]) - datetime.fromisoformat(theirs[store])).total_seconds()
        if delta:
            shifts.append({"store": store, "minutes": round(delta / 60, 1)})
    earlier = [s for s in shifts if s["minutes"] < 0]
    later = [s for s in shifts if s["minutes"] > 0]
    return {
        "hidden_only_here": sorted(set(mine) - set(theirs)),
        "hidden_only_in_baseline": sorted(set(theirs) - set(mine)),
        "hidden_earlier": earlier, "hidden_later": later,
        "earlier_median_minutes": statistics.median(-s["minutes"] for s in earlier) if earlier else None,
        "later_median_minutes": statistics.median(s["minutes"] for s in later) if later else None,
        "alerts_added": _kind_counts(run.firing_ids - base.firing_ids),
        "alerts_removed": _kind_counts(base.firing_ids - run.firing_ids),
    }


def build_report(p: Pass, inputs: Sequence[Path], truth: list[dict[str, Any]] | None) -> dict[str, Any]:
    base = p.runs[0]
    variants = []
    for run in p.runs:
        alerts: dict[str, dict[str, int]] = {}
        for key, n in run.counts.items():
            kind, _, status = key.partition(" ")
            if status:
                alerts.setdefault(kind, {})[status] = n
        entry: dict[str, Any] = {
            "name": run.variant.name, "changes": dict(run.variant.changes), "outputs": str(run.outputs),
            "hides": len(run.hides), "stores_hidden": len(_first_hides(run)), "restores": len(run.restores),
            "alerts": dict(sorted(alerts.items())), "refused": dict(run.refused), "ignored": dict(run.ignored),
            "hide_events": [{k: h.get(k) for k in ("store_id", "city", "at", "incident", "reason", "late",
                                                    "at_risk", "late_order_ids", "at_risk_order_ids")}
                            for h in run.hides],
            "per_day": {d: dict(c) for d, c in sorted(run.per_day.items())},
            "per_store": {s: dict(c) for s, c in sorted(run.per_store.items())},
        }
        if run is not base:
            entry["vs_baseline"] = _compare(run, base)
        if truth is not None:
            result = score(truth, run.hides, run.alerts)
            entry["score"] = result.as_dict()
            entry["score"]["false_hides"] = len(result.unexplained_hides)
        variants.append(entry)
    return {
        "input": {"files": [str(x) for x in inputs], "lines": p.lines, "events": dict(p.events),
                  "first_event": _iso(p.first_ms), "last_event": _iso(p.last_ms), "bad_input": dict(p.bad),
                  "bad_input_examples": dict(p.examples), "skipped_topics": dict(p.skipped),
                  "seconds": round(p.seconds, 2)},
        "variants": variants,
    }


def _iso(ms: int | None) -> str | None:
    return None if ms is None else iso_from_ms(ms)


def _fmt_minutes(m: float | None) -> str:
    if m is None:
        return "–"
    return f"{m / 60:.1f} h" if abs(m) >= 120 else f"{m:.0f} min"


def write_markdown(report: Mapping[str, Any], path: Path) -> None:
    inp, variants = report["input"], report["variants"]
    scored = "score" in variants[0]
    out = ["# Backtest", "",
           f"Input: {', '.join(Path(f).name for f in inp['files'])}: {inp['lines']:,} lines, "
           + ", ".join(f"{n:,} {t}" for t, n in inp["events"].items())
           + f", from {inp['first_event']} to {inp['last_event']}; {inp['seconds']:.1f} s for "
           f"{len(variants)} variant(s).", ""]
    head = ["variant", "changes", "hides", "stores hidden", "order late", "order at risk", "negative reviews",
            "store negativity", "city negativity", "city lateness"]
    if scored:
        head += ["detected", "missed", "false hides", "unexplained negativity"]
    out += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for v in variants:
        a = v["alerts"]
        row = [v["name"], ", ".join(f"{k}={x}" for k, x in v["changes"].items()) or "in force", str(v["hides"]),
               str(v["stores_hidden"])]
        row += [str(a.get(k, {}).get("firing", 0)) for k in ("order_late", "order_at_risk", "negative_review",
                                                              "store_negativity", "city_negativity", "city_lateness")]
        if scored:
            c = v["score"]["counts"]
            row += [str(c.get("DETECTED", 0)), str(c.get("MISSED", 0)), str(v["score"]["false_hides"]),
                    str(c.get("UNEXPLAINED_NEGATIVITY", 0))]
        out.append("| " + " | ".join(row) + " |")
    for v in variants[1:]:
        d = v["vs_baseline"]
        out += ["", f"## {v['name']} against the baseline", "",
                f"- hidden only under {v['name']}: {len(d['hidden_only_here'])}"
                + _some(d["hidden_only_here"]),
                f"- hidden only under the baseline: {len(d['hidden_only_in_baseline'])}"
                + _some(d["hidden_only_in_baseline"]),
                f"- hidden earlier: {len(d['hidden_earlier'])} (median {_fmt_minutes(d['earlier_median_minutes'])})"
                f"; later: {len(d['hidden_later'])} (median {_fmt_minutes(d['later_median_minutes'])})",
                "- alerts added: " + (", ".join(f"{k} {n}" for k, n in d["alerts_added"].items()) or "none"),
                "- alerts removed: " + (", ".join(f"{k} {n}" for k, n in d["alerts_removed"].items()) or "none")]
    if scored:
        out += ["", "## Incidents", "", "| incident | store | city | " + " | ".join(v["name"] for v in variants)
                + " |", "|" + "---|" * (3 + len(variants))]
        for i, inc in enumerate(variants[0]["score"]["incidents"]):
            cells = []
            for v in variants:
                r = v["score"]["incidents"][i]
                delay = "" if r["delay_s"] is None else f" after {_fmt_minutes(r['delay_s'] / 60)}"
                cells.append(f"{r['outcome']}{delay}")
            out.append(f"| {_cell(inc['kind'])} | {_cell(inc['store_id'] or '–')} | {_cell(inc['city'])} | "
                       + " | ".join(cells) + " |")
    out += ["", "## Hides", ""]
    for v in variants:
        out.append(f"- **{v['name']}**: " + (", ".join(f"{h['store_id']} ({h['city']}) at {h['at']} "
                                                       f"({h['late']} late, {h['at_risk']} at risk)"
                                                       for h in v["hide_events"][:LIST_MAX]) or "none")
                   + (f", … {len(v['hide_events']) - LIST_MAX} more" if len(v["hide_events"]) > LIST_MAX else ""))
    out += ["", "## Input the worker would dead-letter", ""]
    if not inp["bad_input"] and not inp["skipped_topics"] and not any(v["refused"] for v in variants):
        out.append("None.")
    for reason, n in sorted(inp["bad_input"].items(), key=lambda kv: -kv[1]):
        example = inp["bad_input_examples"].get(reason, [""])[0]
        out.append(f"- {reason}: {n:,} (first: `{example[:160]}`)")
    for topic, n in inp["skipped_topics"].items():
        out.append(f"- skipped, not an input of the monitor: topic {topic!r}: {n:,} lines")
    for v in variants:  # refused by the rules themselves (too old for the window, a full store): per variant
        for reason, n in sorted(v["refused"].items()):
            out.append(f"- {v['name']}: {reason}: {n:,}")
    path.write_text("\n".join(out) + "\n", encoding="utf-8")


def _cell(text: str) -> str:
    """Text from a truth file as one Markdown table cell."""
    return " ".join(str(text).split()).replace("|", "\\|")[:80]


def _some(stores: list[str]) -> str:
    if not stores:
        return ""
    more = f", … {len(stores) - LIST_MAX} more" if len(stores) > LIST_MAX else ""
    return " (" + ", ".join(stores[:LIST_MAX]) + more + ")"


def write_chart(report: Mapping[str, Any], path: Path) -> bool:
    """Hides per day per variant, and with a truth file the detection delay per incident; False when matplotlib
    (a dev dependency) is not installed."""
    try:
        import matplotlib
    except ImportError:
        return False
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    variants = report["variants"]
    scored = "score" in variants[0]
    fig, axes = plt.subplots(1, 2 if scored else 1, figsize=(12 if scored else 7, 4), squeeze=False)
    days = sorted({d for v in variants for d in v["per_day"]})
    ax = axes[0][0]
    width = 0.8 / len(variants)
    for i, v in enumerate(variants):
        ax.bar([x + i * width for x in range(len(days))], [v["per_day"].get(d, {}).get("hide", 0) for d in days],
               width, label=v["name"])
    step = max(1, len(days) // 12)
    ax.set_xticks(range(0, len(days), step), [d[5:] for d in days[::step]], rotation=45, fontsize=8)
    ax.set_ylabel("stores hidden")
    ax.set_title("hides per day")
    ax.legend(fontsize=8)
    if scored:
        ax = axes[0][1]
        incidents = variants[0]["score"]["incidents"]
        labels = [f"{r['kind']}\n{r['store_id'] or r['city']}" for r in incidents]
        for i, v in enumerate(variants):
            delays = [(r["delay_s"] or 0) / 60 for r in v["score"]["incidents"]]
            ax.bar([x + i * width for x in range(len(labels))], delays, width, label=v["name"])
        ax.set_xticks(range(len(labels)), labels, rotation=30, fontsize=7, ha="right")
        ax.set_ylabel("minutes after onset (0: not detected)")
        ax.set_title("detection delay per incident")
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return True
