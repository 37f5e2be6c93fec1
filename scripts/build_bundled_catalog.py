"""Build the bundled catalog (src/satisfice/catalog/data/catalog.csv) from ../shared/data/catalog_facts.csv.

Keeps every row's price and score sources, splits the score sources per benchmark where the
facts file labels them (``GPQA: EBR ...``), records a harness/protocol note where a source
says so (``(Epoch harness)``, ``(5-shot)``, ``no extended thinking``), and adds the dated price
changes the price sources name. Run it again after editing the facts file::

    .venv/bin/python scripts/build_bundled_catalog.py           # rewrite the CSV
    .venv/bin/python scripts/build_bundled_catalog.py --check   # exit 1 if the CSV is out of date
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

from satisfice.catalog.batch import slugify  # noqa: E402
from satisfice.catalog.sources.native import NATIVE_COLUMNS, parse_native  # noqa: E402

FACTS = REPO.parent / "shared" / "data" / "catalog_facts.csv"
OUT = REPO / "src" / "satisfice" / "catalog" / "data" / "catalog.csv"

BENCHMARK_COLUMNS = {"mmlu": "mmlu", "mmlu_pro": "mmlu-pro", "gpqa_diamond": "gpqa-diamond",
                     "swe_bench_verified": "swe-bench-verified"}
LABELS = {"MMLU": "mmlu", "MMLU-Pro": "mmlu-pro", "GPQA": "gpqa-diamond", "SWE": "swe-bench-verified", "date": None}

# The organization's own API sells at the list price; Meta has none, so its rows name the host.
PROVIDERS = {"OpenAI": "openai", "Anthropic": "anthropic", "Google": "google", "Mistral": "mistral",
             "Alibaba": "alibaba", "DeepSeek": "deepseek", "Moonshot AI": "moonshot", "Z.ai (Zhipu)": "zai"}

# Models that always reason before answering. Hybrid models (Claude 3.7 / 4, Qwen3, GLM-4.5 ...)
# are not flagged: their scores here are mostly from non-thinking runs.
REASONING = {"o1", "o3", "GPT-5", "GPT-5.2", "DeepSeek-R1", "Kimi K2 Thinking", "Gemini 2.5 Pro", "Gemini 3 Pro"}

# Dated price changes that a row's price source names (model name, provider, date, input, output, source).
PRICE_CHANGES = [
    ("o3", "openai", "2025-06-10", "2", "8", "GP openai.yml start_date 2025-06-10 -> 2/8; MD o3.toml now 2/8"),
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


def harness_of(segment: str, note: str) -> str:
    """Harness/protocol note a score source states."""
    notes = [note] if note else []
    if "Epoch harness" in segment:
        notes.append("Epoch harness")
    if re.search(r"w/o extended thinking|no extended thinking|no thinking", segment):
        notes.append("no extended thinking")
    if "non-thinking" in segment:
        notes.append("non-thinking")
    return "; ".join(notes)


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
        found = by_slug.get(slug)
        if found:
            source = "; ".join(seg for seg, _ in found)
            harness = "; ".join(h for h in (harness_of(seg, note) for seg, note in found) if h)
        else:
            source = "; ".join(unlabelled) or score_source
            harness = harness_of(source, "")
        cells[f"score_source:{slug}"] = cite(source)
        cells[f"harness:{slug}"] = harness
    return cells, "; ".join(date_sources)


def provider_of(row: dict[str, str]) -> str:
    """Who sells at the row's price."""
    if row["organization"] in PROVIDERS:
        return PROVIDERS[row["organization"]]
    m = re.match(r"LL (\w+)", row["price_source"])
    if m is None:
        raise SystemExit(f"{row['model']}: no provider for organization {row['organization']!r}")
    return m.group(1)


def build(facts: Path) -> str:
    """The bundled catalog CSV text."""
    with facts.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    slugs = list(BENCHMARK_COLUMNS.values())
    columns = [c for c in NATIVE_COLUMNS if c != "notes"]
    columns += [f"score:{s}" for s in slugs] + [f"score_source:{s}" for s in slugs] + [f"harness:{s}" for s in slugs]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    names = {r["model"] for r in rows}
    unknown = REASONING - names
    if unknown:
        raise SystemExit(f"reasoning models not in the facts file: {sorted(unknown)}")
    for row in rows:
        present = [slug for col, slug in BENCHMARK_COLUMNS.items() if row[col].strip()]
        cells, date_source = score_cells(row["score_source"], present)
        price_source = row["price_source"] + (f"; release date: {date_source}" if date_source else "")
        writer.writerow({
            "id": slugify(row["model"]), "name": row["model"], "organization": row["organization"],
            "open_weights": row["open_weights"], "release_date": row["release_date"],
            "reasoning": "true" if row["model"] in REASONING else "false",
            "provider": provider_of(row), "effective_date": row["release_date"],
            "input_per_m": row["input_price_per_m"], "output_per_m": row["output_price_per_m"],
            "price_source": cite(price_source), "score_source": cite(row["score_source"]),
            **{f"score:{slug}": row[col] for col, slug in BENCHMARK_COLUMNS.items()},
            **cells,
        })
    for name, provider, date, inp, outp, source in PRICE_CHANGES:
        if name not in names:
            raise SystemExit(f"price change for unknown model {name!r}")
        writer.writerow({"id": slugify(name), "name": name, "provider": provider, "effective_date": date,
                         "input_per_m": inp, "output_per_m": outp, "price_source": cite(source)})
    return out.getvalue()


def main() -> int:
    """Write (or with --check, compare) the bundled catalog."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--facts", type=Path, default=FACTS)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--check", action="store_true", help="exit 1 if the output file is out of date")
    args = parser.parse_args()
    text = build(args.facts)
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


if __name__ == "__main__":
    raise SystemExit(main())
