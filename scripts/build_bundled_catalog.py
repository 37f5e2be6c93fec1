"""Build the bundled catalog (src/satisfice/catalog/data/catalog.csv) from the shared facts and package prices.

Inputs: ../shared/data/catalog_facts.csv (2023-03 to 2026-02), ../shared/data/catalog_facts_2026.csv
(2026-02 to 2026-09, and dated price changes: rows whose price source starts with "price change"),
and src/satisfice/catalog/data/package_prices.csv: the prices, with their dates, that the newest
genai-prices and litellm packages give for the catalog's models at their own vendor's API
(written by ``--refresh-prices``, which reads the two wheels).

Keeps every row's price and score sources, splits the score sources per benchmark where the
facts file labels them (``GPQA: EBR ...``), records a harness/protocol note where a source
says so (``(Epoch harness)``, ``(5-shot)``, ``no extended thinking``), and adds the dated price
changes the price sources name. Run it again after editing the facts file::

    .venv/bin/python scripts/build_bundled_catalog.py           # rewrite the CSV
    .venv/bin/python scripts/build_bundled_catalog.py --check   # exit 1 if the CSV is out of date
    .venv/bin/python scripts/build_bundled_catalog.py --refresh-prices [--genai-prices WHEEL] [--litellm WHEEL]
        # re-read the package prices (wheels downloaded with pip when not given), then rebuild
"""

from __future__ import annotations

import argparse
import csv
import io
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from package_prices import PRICE_COLUMNS, read_package_prices, refresh_package_prices  # noqa: E402

from satisfice.catalog.batch import BENCHMARKS, slugify  # noqa: E402
from satisfice.catalog.sources.native import NATIVE_COLUMNS, parse_native  # noqa: E402

FACTS = REPO.parent / "shared" / "data" / "catalog_facts.csv"
FACTS_2026 = REPO.parent / "shared" / "data" / "catalog_facts_2026.csv"
DATA = REPO / "src" / "satisfice" / "catalog" / "data"
OUT = DATA / "catalog.csv"
PACKAGE_PRICES = DATA / "package_prices.csv"
SCORE_OBSERVATIONS = DATA / "score_observations.csv"
"""More score observations, one per line (model, benchmark, value, harness, effort, date, source, and the run's
usage per task where its source publishes it): runs by other harnesses of models the facts files already score,
sourced scores the facts files lack, and built-in benchmarks the facts files have no column for."""
USAGE = ("input_tokens", "cached_tokens", "output_tokens", "items", "cost_per_task")
"""Usage columns of a score observation (per task of that run), written as ``<column>:<benchmark>``."""

BENCHMARK_COLUMNS = {"mmlu": "mmlu", "mmlu_pro": "mmlu-pro", "gpqa_diamond": "gpqa-diamond",
                     "swe_bench_verified": "swe-bench-verified"}
LABELS = {"MMLU": "mmlu", "MMLU-Pro": "mmlu-pro", "GPQA": "gpqa-diamond", "SWE": "swe-bench-verified", "date": None}

# The organization's own API sells at the list price; Meta has none, so its rows name the host.
PROVIDERS = {"OpenAI": "openai", "Anthropic": "anthropic", "Google": "google", "Mistral": "mistral",
             "Alibaba": "alibaba", "DeepSeek": "deepseek", "Moonshot AI": "moonshot", "Z.ai (Zhipu)": "zai",
             "MiniMax": "minimax", "xAI": "xai", "NVIDIA": "nvidia"}
NO_FIRST_PARTY = "no first-party API price"
"""A price source that starts so names a third-party host: the row's provider is that host (openrouter)."""
PRICE_CHANGE = "price change"

# Models that always reason before answering. Hybrid models (Claude 3.7 / 4, Qwen3, GLM-4.5 ...)
# are not flagged: their scores here are mostly from non-thinking runs.
REASONING = {"o1", "o3", "GPT-5", "GPT-5.2", "DeepSeek-R1", "Kimi K2 Thinking", "Gemini 2.5 Pro", "Gemini 3 Pro"}

# Dated price changes that a row's price source names (model name, provider, date, input, output, source).
PRICE_CHANGES = [
    ("o3", "openai", "2025-06-10", "2", "8", "GP openai.yml start_date 2025-06-10 -> 2/8; MD o3.toml now 2/8"),
]

# List prices of serving providers (their own per-token price, not a reseller's) for models whose
# organization sells no API of its own (model name, provider, date, input, output, source).
SERVING_OFFERS = [
    ("Gemma 4 31B IT", "deepinfra", "2026-05-02", "0.13", "0.38",
     "MDgit 60d1d4df777e0be6ca15a7a49d3694e57b4fbe6e (2026-05-02, 'add gemma4 26b a4b and 31b to deepinfra') "
     "providers/deepinfra/models/google/gemma-4-31B-it.toml [cost] input 0.13 output 0.38, unchanged at "
     "f3fc692299671838c7c65fd8126bf84d81a2e817 (2026-07-02); DeepInfra's own list price"),
]

LEGEND = {
    "MDgit": "models.dev git history",
    "MD": "models.dev provider files",
    "LP": "simonw/llm-prices",
    "LL": "litellm model_prices_and_context_window_backup.json (litellm wheel)",
    "GP": "pydantic/genai-prices",
    "EPD": "Epoch AI llm-benchmark-efficiency data",
    "EBR": "Epoch AI benchmark-stitching runs",
    "EMV": "Epoch AI model versions",
    "EMMLU": "Epoch AI external MMLU table",
    "EOC": "Epoch AI open-model-trends",
    "TIGER": "MMLU-Pro README leaderboard (TIGER-Lab)",
    "AA": "Artificial Analysis",
    "R1": "DeepSeek-R1 README",
    "V3": "DeepSeek-V3 README",
    "K2": "Kimi K2 README",
    "GLM5": "GLM-5 model card",
    "OpenRouter": "OpenRouter price history (jvrck/openrouterlist)",
}
_KEYS = re.compile(r"\b(" + "|".join(sorted(LEGEND, key=len, reverse=True)) + r"|LLAMA\d*)\b")
_LABEL_PART = re.compile(r"(?P<label>MMLU-Pro|MMLU|GPQA|SWE|date)(?: \((?P<note>[^)]*)\))?")


def cite(text: str) -> str:
    """The source text with the facts file's source keys spelled out."""
    keys = list(dict.fromkeys(m.group(1) for m in _KEYS.finditer(text)))
    if not keys:
        return text
    spelled = "; ".join(f"{k} = {LEGEND.get(k, 'the vendor model card')}" for k in keys)
    return f"{text} [{spelled}]"


def split_top(text: str, sep: str = "; ") -> list[str]:
    """Split at ``sep`` outside parentheses."""
    parts, depth, start, i = [], 0, 0, 0
    while i < len(text):
        ch = text[i]
        depth += ch == "("
        depth -= ch == ")"
        if depth == 0 and text.startswith(sep, i):
            parts.append(text[start:i].strip())
            start = i = i + len(sep)
            continue
        i += 1
    parts.append(text[start:].strip())
    return [p for p in parts if p]


def labelled(segment: str) -> dict[str, str] | None:
    """``{benchmark slug or 'date': protocol note}`` when the segment starts with labels, else None."""
    head, colon, _ = segment.partition(": ")
    if not colon:
        return None
    out: dict[str, str] = {}
    for part in head.split("/"):
        m = _LABEL_PART.fullmatch(part.strip())
        if m is None:
            return None
        out[LABELS[m["label"]] or "date"] = m["note"] or ""
    return out


# Who ran a benchmark, from the score source's text: the first rule that matches wins.
HARNESS_RULES = [
    (re.compile(r"\bEBR\b|Epoch harness"), "epoch"),
    (re.compile(r"\bAA via\b|Artificial Analysis"), "artificial-analysis"),
    (re.compile(r"\bTIGER\b"), "tiger-lab"),
    (re.compile(r"^SWE: swebench\.com leaderboard"), "swe-bench"),
    (re.compile(r"\(HELM"), "helm"),
    (re.compile(r"\bEOC\b"), "third-party"),
]
VENDOR = "vendor"
"""Every other score source is a model card, a launch post or a vendor's comparison table (or a page quoting one)."""
_EFFORT_NOTES = [  # (pattern, note, only for this benchmark)
    (re.compile(r"w/o extended thinking|no extended thinking|no thinking"), "no extended thinking", None),
    (re.compile(r"non-thinking"), "non-thinking", None),
    (re.compile(r"thinking high"), "thinking high", None),
    (re.compile(r"\bxhigh\b|\bxHigh\b"), "xhigh", None),
    (re.compile(r"GPQA avg@8"), "avg@8", "gpqa-diamond"),
    (re.compile(r"SWE agentic single attempt"), "agentic, single attempt", "swe-bench-verified"),
]
_EPOCH_EFFORT = re.compile(r"\bEBR [\w.-]+_(low|medium|high|xhigh)\b")


def harness_of(segment: str) -> str:
    """Who ran the benchmark a score source reports (``epoch``, ``artificial-analysis``..., else ``vendor``)."""
    return next((name for pattern, name in HARNESS_RULES if pattern.search(segment)), VENDOR)


def effort_of(segment: str, note: str, slug: str = "") -> str:
    """The effort, variant or protocol a score source states (``high``, ``no extended thinking``, ``5-shot``)."""
    notes = [note] if note and "Epoch harness" not in note else []
    epoch = _EPOCH_EFFORT.search(segment)
    if epoch:
        notes.append(epoch.group(1))
    notes += [label for pattern, label, only in _EFFORT_NOTES
              if pattern.search(segment) and label not in notes and only in (None, slug)]
    return "; ".join(dict.fromkeys(notes))


def score_cells(score_source: str, slugs: list[str]) -> tuple[dict[str, str], str]:
    """Per-benchmark ``score_source:``/``harness:`` cells and the release-date source, from one source text."""
    by_slug: dict[str, list[tuple[str, str]]] = {}
    unlabelled: list[str] = []
    date_sources: list[str] = []
    for seg in split_top(score_source):
        labels = labelled(seg)
        if labels is None:
            unlabelled.append(seg)
            continue
        for slug, note in labels.items():
            if slug == "date":
                date_sources.append(seg.partition(": ")[2])
            else:
                by_slug.setdefault(slug, []).append((seg, note))
    cells: dict[str, str] = {}
    for slug in slugs:
        found = by_slug.get(slug) or [("; ".join(unlabelled) or score_source, "")]
        source = "; ".join(seg for seg, _ in found)
        cells[f"score_source:{slug}"] = cite(source)
        cells[f"harness:{slug}"] = harness_of(found[0][0])
        cells[f"effort:{slug}"] = "; ".join(e for e in (effort_of(seg, note, slug) for seg, note in found) if e)
    return cells, "; ".join(date_sources)


def provider_of(row: dict[str, str]) -> str:
    """Who sells at the row's price."""
    if row["price_source"].startswith(NO_FIRST_PARTY) and "OpenRouter" in row["price_source"]:
        return "openrouter"
    if row["organization"] in PROVIDERS:
        return PROVIDERS[row["organization"]]
    m = re.match(r"LL (\w+)", row["price_source"])
    if m is None:
        raise SystemExit(f"{row['model']}: no provider for organization {row['organization']!r}")
    return m.group(1)


def read_rows(*paths: Path | None) -> list[dict[str, str]]:
    """Rows of the facts files, in order."""
    rows: list[dict[str, str]] = []
    for path in paths:
        if path is not None:
            with path.open(newline="", encoding="utf-8") as fh:
                rows.extend(csv.DictReader(fh))
    return rows


def build(facts: Path, facts_2026: Path | None = None, package_prices: Path | None = None,
          score_observations: Path | None = SCORE_OBSERVATIONS) -> str:
    """The bundled catalog CSV text."""
    rows = read_rows(facts, facts_2026)
    models = [r for r in rows if not r["price_source"].startswith(PRICE_CHANGE)]
    changes = [r for r in rows if r["price_source"].startswith(PRICE_CHANGE)]
    observations = read_rows(score_observations)
    slugs = list(BENCHMARK_COLUMNS.values())
    slugs += sorted({o["benchmark"] for o in observations if o["benchmark"] in BENCHMARKS} - set(slugs))
    columns = [c for c in NATIVE_COLUMNS if c != "notes"]
    columns += [f"{kind}:{s}" for kind in ("score", "score_source", "harness", "effort", "score_date") for s in slugs]
    columns += [f"{u}:{s}" for s in slugs for u in USAGE if any(o["benchmark"] == s and o.get(u) for o in observations)]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    names = {r["model"] for r in models}
    unknown = REASONING - names
    if unknown:
        raise SystemExit(f"reasoning models not in the facts file: {sorted(unknown)}")
    prices: dict[tuple[str, str], dict[str, tuple[str, str]]] = {}
    for row in models:
        present = [slug for col, slug in BENCHMARK_COLUMNS.items() if row[col].strip()]
        cells, date_source = score_cells(row["score_source"], present)
        price_source = row["price_source"] + (f"; release date: {date_source}" if date_source else "")
        provider = provider_of(row)
        prices.setdefault((slugify(row["model"]), provider), {})[row["release_date"]] = (
            row["input_price_per_m"], row["output_price_per_m"])
        writer.writerow({
            "id": slugify(row["model"]), "name": row["model"], "organization": row["organization"],
            "open_weights": row["open_weights"], "release_date": row["release_date"],
            "reasoning": "true" if row["model"] in REASONING else "false",
            "provider": provider, "effective_date": row["release_date"],
            "input_per_m": row["input_price_per_m"], "output_per_m": row["output_price_per_m"],
            "price_source": cite(price_source), "score_source": cite(row["score_source"]),
            **{f"score:{slug}": row[col] for col, slug in BENCHMARK_COLUMNS.items()},
            **cells,
        })
    for obs in observations:
        if obs["model"] not in names or obs["benchmark"] not in slugs:
            raise SystemExit(f"{score_observations}: unknown model {obs['model']!r} or benchmark {obs['benchmark']!r}")
        b = obs["benchmark"]
        writer.writerow({"id": slugify(obs["model"]), "name": obs["model"], f"score:{b}": obs["value"],
                         f"score_source:{b}": obs["source"], f"harness:{b}": obs["harness"],
                         f"effort:{b}": obs["effort"], f"score_date:{b}": obs["date"],
                         **{f"{u}:{b}": obs[u] for u in USAGE if obs.get(u)}})
    by_name = {r["model"]: r for r in models}
    changed = [(r["model"], provider_of(by_name[r["model"]]) if r["model"] in by_name else "", r["release_date"],
                r["input_price_per_m"], r["output_price_per_m"], r["price_source"]) for r in changes]
    for name, provider, date, inp, outp, source in PRICE_CHANGES + changed + SERVING_OFFERS:
        if name not in names:
            raise SystemExit(f"price change for unknown model {name!r}")
        prices.setdefault((slugify(name), provider), {})[date] = (inp, outp)
        writer.writerow({"id": slugify(name), "name": name, "provider": provider, "effective_date": date,
                         "input_per_m": inp, "output_per_m": outp, "price_source": cite(source)})
    if package_prices is not None:
        for p in read_package_prices(package_prices):
            dated = prices.get((p["model_id"], p["provider"]))
            if dated is None or p["effective_date"] in dated:
                continue  # not a catalog model at its own vendor, or the facts file already dates this price
            in_force = max((d for d in dated if d <= p["effective_date"]), default=None)
            if in_force is not None and _same(dated[in_force], (p["input_per_m"], p["output_per_m"])):
                continue
            dated[p["effective_date"]] = (p["input_per_m"], p["output_per_m"])
            writer.writerow({"id": p["model_id"], "name": by_name_of(models, p["model_id"]),
                             "provider": p["provider"], "effective_date": p["effective_date"],
                             "input_per_m": p["input_per_m"], "output_per_m": p["output_per_m"],
                             "cached_input_per_m": p["cached_input_per_m"], "price_source": p["source"]})
    return out.getvalue()


def _same(a: tuple[str, str], b: tuple[str, str]) -> bool:
    return all(abs(float(x) - float(y)) < 1e-9 for x, y in zip(a, b, strict=True))


def by_name_of(models: list[dict[str, str]], model_id: str) -> str:
    """The display name of a catalog model id."""
    return next(r["model"] for r in models if slugify(r["model"]) == model_id)


def main() -> int:
    """Write (or with --check, compare) the bundled catalog."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--facts", type=Path, default=FACTS)
    parser.add_argument("--facts-2026", type=Path, default=FACTS_2026)
    parser.add_argument("--package-prices", type=Path, default=PACKAGE_PRICES)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--check", action="store_true", help="exit 1 if the output file is out of date")
    parser.add_argument("--refresh-prices", action="store_true",
                        help="re-read genai-prices and litellm (the wheels below, or downloaded with pip)")
    parser.add_argument("--genai-prices", type=Path, help="a genai-prices wheel (default: pip download)")
    parser.add_argument("--litellm", type=Path, help="a litellm wheel (default: pip download)")
    parser.add_argument("--as-of", default=None, help="date of the packages' undated prices (default: today)")
    args = parser.parse_args()
    if args.refresh_prices:
        pairs = _pairs(args.facts, args.facts_2026)
        count = refresh_package_prices(pairs, args.package_prices, genai=args.genai_prices, litellm=args.litellm,
                                       as_of=args.as_of)
        print(f"wrote {args.package_prices}: {count} prices")
    text = build(args.facts, args.facts_2026, args.package_prices)
    if args.check:
        current = args.out.read_text(encoding="utf-8") if args.out.exists() else ""
        if current != text:
            print(f"{args.out} is out of date; run scripts/build_bundled_catalog.py", file=sys.stderr)
            return 1
        return 0
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    batch = parse_native(args.out)
    print(f"wrote {args.out}: {batch.counts()}")
    return 0


def _pairs(facts: Path, facts_2026: Path) -> set[tuple[str, str]]:
    """(model id, vendor provider) of every catalog model."""
    rows = [r for r in read_rows(facts, facts_2026) if not r["price_source"].startswith(PRICE_CHANGE)]
    return {(slugify(r["model"]), provider_of(r)) for r in rows}


__all__ = ["PRICE_COLUMNS", "build", "main"]


if __name__ == "__main__":
    raise SystemExit(main())
