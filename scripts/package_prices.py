"""The prices the newest genai-prices and litellm packages give for the bundled catalog's models.

``refresh_package_prices`` reads the two wheels (downloaded with ``pip download --no-deps`` when
not given), keeps the offers of catalog models at their own vendor's API, and writes them with
their dates and sources to a small CSV that ``build_bundled_catalog.py`` reads. genai-prices comes
first (it dates its changes); litellm fills a vendor price genai-prices lacks.
"""

from __future__ import annotations

import csv
import datetime as dt
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from satisfice.catalog.identity import Identity, provider_id
from satisfice.catalog.rows import OfferRow
from satisfice.catalog.sources.genai_prices import parse_genai_prices
from satisfice.catalog.sources.litellm import parse_litellm

PRICE_COLUMNS = ["model_id", "provider", "effective_date", "input_per_m", "output_per_m", "cached_input_per_m",
                 "source"]
LITELLM_MEMBER = "litellm/model_prices_and_context_window_backup.json"


def read_package_prices(path: Path) -> list[dict[str, str]]:
    """Rows of a package-prices CSV (none when the file does not exist)."""
    if not path.exists():
        return []
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _download(package: str, folder: Path) -> Path:
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(folder), package],
                   check=True)
    return next(folder.glob(package.replace("-", "_") + "-*.whl"))


def _version(wheel: Path) -> str:
    return wheel.name.split("-")[1]


def _num(value: float | None) -> str:
    return "" if value is None else f"{value:.10g}"


def refresh_package_prices(pairs: set[tuple[str, str]], out: Path, *, genai: Path | None = None,
                           litellm: Path | None = None, as_of: str | None = None) -> int:
    """Write the package prices of ``pairs`` (model id, vendor provider) to ``out``; returns the row count."""
    day = dt.date.fromisoformat(as_of) if as_of else dt.date.today()
    ids = Identity.load()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        genai = genai or _download("genai-prices", folder)
        litellm = litellm or _download("litellm", folder)
        json_path = folder / Path(LITELLM_MEMBER).name
        with zipfile.ZipFile(litellm) as wheel:
            json_path.write_bytes(wheel.read(LITELLM_MEMBER))
        gp = parse_genai_prices(genai, as_of=day, ids=ids.canonical)
        ll = parse_litellm(json_path, as_of=day, ids=ids.canonical)
    rows: dict[tuple[str, str, str], dict[str, str]] = {}
    for offer in gp.offers:
        key = (offer.model_id, provider_id(offer.provider))
        if key in pairs:
            rows[(*key, offer.effective_date.isoformat())] = {
                "source": f"GP = pydantic/genai-prices {_version(genai)} (PyPI wheel): {offer.source}", **_cells(offer)}
    priced = {(m, p) for m, p, _ in rows}
    for offer in ll.offers:
        key = (offer.model_id, provider_id(offer.provider))
        if key in pairs and key not in priced:
            rows[(*key, offer.effective_date.isoformat())] = {
                "source": f"LL = litellm {_version(litellm)} (PyPI wheel): {offer.source}", **_cells(offer)}
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=PRICE_COLUMNS, lineterminator="\n")
        writer.writeheader()
        for (model, provider, date), cells in sorted(rows.items()):
            writer.writerow({"model_id": model, "provider": provider, "effective_date": date, **cells})
    return len(rows)


def _cells(offer: OfferRow) -> dict[str, str]:
    return {"input_per_m": _num(offer.input_per_m), "output_per_m": _num(offer.output_per_m),
            "cached_input_per_m": _num(offer.cached_input_per_m)}
