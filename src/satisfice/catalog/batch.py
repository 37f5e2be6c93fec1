"""What an importer produces: rows parsed from one file, not yet written."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from satisfice.catalog.rows import BenchmarkRow, ModelRow, OfferRow, ScoreRow

BENCHMARKS: dict[str, BenchmarkRow] = {
    b.slug: b
    for b in (
        BenchmarkRow("mmlu", "MMLU"),
        BenchmarkRow("mmlu-pro", "MMLU-Pro"),
        BenchmarkRow("gpqa-diamond", "GPQA Diamond"),
        BenchmarkRow("swe-bench-verified", "SWE-bench Verified"),
        BenchmarkRow("humaneval", "HumanEval"),
        BenchmarkRow("math-500", "MATH-500"),
        BenchmarkRow("math-level-5", "MATH level 5"),
        BenchmarkRow("arena-elo", "LMSys Chatbot Arena Elo", scale="elo"),
        BenchmarkRow("aa-intelligence-index-v4.3", "Artificial Analysis Intelligence Index v4.3"),
    )
}
"""The built-in benchmarks by slug (lowercase ids used in files and options). The Artificial Analysis index
carries its version: its values are not comparable across versions (v4.2 dropped GPQA Diamond, v4.3 changed
three components), and one observation of it is one run of the whole index (items 1)."""


def slugify(name: str) -> str:
    """Lowercase slug for ids: ``GPT-4o (2024-05-13)`` -> ``gpt-4o-2024-05-13``."""
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    text = re.sub(r"[^a-z0-9.]+", "-", text.lower()).strip("-.")
    return re.sub(r"-{2,}", "-", text)


@dataclass
class ImportBatch:
    """Rows parsed from one file; ``source_file`` names it in errors."""

    source_file: str
    models: list[ModelRow] = field(default_factory=list)
    offers: list[OfferRow] = field(default_factory=list)
    scores: list[ScoreRow] = field(default_factory=list)
    benchmarks: list[BenchmarkRow] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        """How many rows of each kind the file held."""
        return {"models": len(self.models), "offers": len(self.offers), "scores": len(self.scores)}
