"""A trained router on disk: ``manifest.json`` (what a person reads) and ``router.joblib`` (the fitted objects).

The manifest names the policy, its certificate, the per-task model, the models and the training files, and
the SHA-256 of the joblib file. Both files are written under temporary names and renamed into place (the
joblib file first), so a crash never leaves a manifest pointing at a half-written model. The joblib file is a
pickle: load only routers you trained yourself.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path
from typing import Any

from satisfice.errors import DataError
from satisfice.routing.policies import from_json, to_json
from satisfice.routing.train import PerTask, Trained

MANIFEST = "manifest.json"
BLOB = "router.joblib"
FORMAT = 1


def manifest_of(trained: Trained, sources: list[str]) -> dict[str, Any]:
    """The manifest document of a trained router (without the blob's hash)."""
    import sklearn

    return {
        "format": FORMAT,
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "policy": to_json(trained.policy, trained.models),
        "policy_label": trained.policy.label(trained.models),
        "bar": trained.bar,
        "confidence": trained.confidence,
        "certified_accuracy_low": trained.certified_low,
        "expected_cost_per_request_usd": trained.expected_cost,
        "per_task_model": trained.models[trained.per_task.model],
        "per_task_clears_bar": trained.per_task.clears_bar,
        "per_task_lower": trained.per_task.lower,
        "strongest_model": trained.models[trained.strongest],
        "models": trained.models,
        "features": trained.features,
        "routers": sorted(trained.routers),
        "trained_on": sources,
        "summary": trained.summary,
        "sklearn_version": sklearn.__version__,
    }


def _write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def save(trained: Trained, out: Path, *, sources: list[str]) -> Path:
    """Write the router into directory ``out`` (created if needed); returns the manifest's path."""
    import io

    import joblib

    out.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    joblib.dump({"featurizer": trained.featurizer, "routers": trained.routers,
                 "candidates": [to_json(c, trained.models) for c in trained.candidates]}, buffer, compress=3)
    blob = buffer.getvalue()
    manifest = manifest_of(trained, sources) | {"sha256": hashlib.sha256(blob).hexdigest()}
    _write(out / BLOB, blob)
    _write(out / MANIFEST, (json.dumps(manifest, indent=2, allow_nan=False) + "\n").encode())
    return out / MANIFEST


def read_manifest(path: Path) -> dict[str, Any]:
    """The manifest of a router directory (DataError naming the file when absent or malformed)."""
    where = path / MANIFEST
    try:
        doc = json.loads(where.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError(f"not a trained router: no {MANIFEST} (train one with `satisfice route train`)",
                        file=str(path)) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(f"unreadable router manifest: {exc}", file=str(where)) from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise DataError(f"router manifest of an unknown format (expected format {FORMAT})", file=str(where))
    for key in ("policy", "models", "bar", "confidence", "per_task_model", "sha256"):
        if key not in doc:
            raise DataError(f"router manifest lacks {key!r}", file=str(where), field=key)
    return doc


def load(path: Path) -> Trained:
    """Load a router written by :func:`save` (DataError on a missing, altered or unreadable one)."""
    import io

    import joblib

    doc = read_manifest(path)
    try:
        blob = (path / BLOB).read_bytes()
    except OSError as exc:
        raise DataError(f"cannot read the router's model file: {exc.strerror}", file=str(path / BLOB)) from None
    if hashlib.sha256(blob).hexdigest() != doc["sha256"]:
        raise DataError("the router's model file does not match its manifest (altered or half-copied)",
                        file=str(path / BLOB))
    try:
        parts = joblib.load(io.BytesIO(blob))
    except Exception as exc:  # a pickle can fail in many ways; all mean "not loadable here"
        raise DataError(f"cannot load the router's model file: {type(exc).__name__}: {exc}",
                        file=str(path / BLOB)) from None
    models = [str(m) for m in doc["models"]]
    strongest = models.index(doc.get("strongest_model", models[-1]))
    per_task = PerTask(models.index(doc["per_task_model"]), bool(doc.get("per_task_clears_bar", True)),
                       float(doc.get("per_task_lower", 0.0)))
    return Trained(models, float(doc["bar"]), float(doc["confidence"]), from_json(doc["policy"], models),
                   float(doc.get("certified_accuracy_low", 0.0)), float(doc.get("expected_cost_per_request_usd", 0.0)),
                   per_task, str(doc.get("features", "tfidf")), parts["featurizer"], parts["routers"], strongest,
                   [from_json(c, models) for c in parts["candidates"]], dict(doc.get("summary", {})))


__all__ = ["BLOB", "FORMAT", "MANIFEST", "load", "manifest_of", "read_manifest", "save"]
