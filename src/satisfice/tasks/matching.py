"""Pure text helpers behind the scorers: normalisation, choice-letter, number and JSON extraction, F1."""

from __future__ import annotations

import json
import math
import re
import string
import unicodedata
from collections import Counter
from typing import Any


def normalize(text: str) -> str:
    """Case-, whitespace- and punctuation-insensitive form: NFKC, casefold, punctuation removed, spaces collapsed."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = "".join(ch for ch in text if not unicodedata.category(ch).startswith("P"))
    return " ".join(text.split())


_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCT = set(string.punctuation)


def squad_normalize(text: str) -> str:
    """SQuAD's answer normalisation: lower case, no punctuation, no articles, single spaces."""
    text = "".join(ch for ch in text.lower() if ch not in _PUNCT)
    return " ".join(_ARTICLES.sub(" ", text).split())


def token_f1(prediction: str, truth: str) -> float:
    """Token-level F1 between two answers, as in the SQuAD evaluation script."""
    pred, gold = squad_normalize(prediction).split(), squad_normalize(truth).split()
    if not pred or not gold:
        return float(pred == gold)
    common = Counter(pred) & Counter(gold)
    same = sum(common.values())
    if same == 0:
        return 0.0
    precision, recall = same / len(pred), same / len(gold)
    return 2 * precision * recall / (precision + recall)


def choice_target(target: Any, letters: str) -> str:
    """The correct letter from a target like ``"B"``, ``"(b)"``, ``"answer_b"`` or a 0-based index ``1``.

    Raises:
        ValueError: When the target names no letter among ``letters``.
    """
    if isinstance(target, int) and not isinstance(target, bool):
        if 0 <= target < len(letters):
            return letters[target]
        raise ValueError(f"target index {target} is outside 0..{len(letters) - 1}")
    text = str(target).strip().strip("()[]. ").upper()
    if text.startswith("ANSWER_") or text.startswith("OPTION_"):
        text = text.split("_", 1)[1]
    if len(text) == 1 and text in letters:
        return text
    raise ValueError(f"target {target!r} is not one of the choices {', '.join(letters)}")


def extract_choice(text: str, letters: str = "ABCD") -> str | None:
    """The multiple-choice letter an answer gives, or None.

    Understands ``"The answer is (B)"``, ``"Answer: b"``, ``"B."``, ``"b"``, ``"(C) because ..."``,
    ``"D is correct"``, and a single standalone capital letter; ``"A"`` as an article ("A cell is ...") is
    not taken for a choice.
    """
    cls = f"[{letters}{letters.lower()}]"
    upper = f"[{letters}]"
    explicit = re.compile(
        rf"(?i:answer|option|choice)(?i:\s+is)?\s*[:=\-]?\s*(?i:option|choice)?\s*[:=]?\s*"
        rf"(?:\(({cls})\)|\[({cls})\]|({upper})(?![A-Za-z])|({cls})(?=\s*(?:$|[.,;:!?)\]])))"
    )
    hits = [next(g for g in m.groups() if g) for m in explicit.finditer(text)]
    if hits:
        return hits[-1].upper()
    stripped = text.strip()
    alone = re.fullmatch(rf"[\(\[]?({cls})[\)\]]?[.:]?", stripped)
    if alone:
        return alone.group(1).upper()
    leading = re.match(rf"[\(\[]?({cls})(?:[\)\]]|[.:](?=\s|$))", stripped)
    if leading:
        return leading.group(1).upper()
    bracketed = {m.group(1).upper() for m in re.finditer(rf"\(({cls})\)", text)}
    if len(bracketed) == 1:
        return bracketed.pop()
    capital = re.match(rf"({upper})\s+(\S+)", stripped)
    if capital and (capital.group(1) != "A" or not capital.group(2)[0].islower() or capital.group(2) == "is"):
        return capital.group(1)
    standalone = {
        m.group(1)
        for m in re.finditer(rf"(?<![A-Za-z0-9'])({upper})(?![A-Za-z0-9'])(\s+[a-z])?", text)
        if not (m.group(1) == "A" and m.group(2))
    }
    if len(standalone) == 1:
        return standalone.pop()
    return None


_NUMBER = re.compile(r"(?<![\w.])[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:[eE][-+]?\d+)?|(?<![\w.])[-+]?\.\d+")


def extract_numbers(text: str) -> list[float]:
    """Every number in ``text`` (``-3``, ``1,234.5``, ``.5``, ``2e3``; a Unicode minus counts as minus)."""
    text = text.replace("\u2212", "-")
    out = []
    for match in _NUMBER.finditer(text):
        try:
            out.append(float(match.group(0).replace(",", "")))
        except ValueError:
            continue
    return out


def as_number(value: Any) -> float:
    """A target as a float: numbers as they are, text through :func:`extract_numbers` (exactly one number).

    Raises:
        ValueError: When the target is not a number.
    """
    if isinstance(value, bool):
        raise ValueError(f"target {value!r} is not a number")
    if isinstance(value, int | float):
        return float(value)
    numbers = extract_numbers(str(value))
    if len(numbers) != 1:
        raise ValueError(f"target {value!r} is not a number")
    return numbers[0]


def close(a: float, b: float, abs_tol: float, rel_tol: float) -> bool:
    """``|a - b| <= max(abs_tol, rel_tol * |b|)`` (b is the target)."""
    if math.isnan(a) or math.isnan(b):
        return False
    return abs(a - b) <= max(abs_tol, rel_tol * abs(b))


_FENCE = re.compile(r"```(?:json|JSON)?\s*(.*?)(?:```|$)", re.DOTALL)


def extract_json(text: str) -> Any:
    """The JSON value an answer gives: the whole text, a fenced block, or the first object/array in it.

    Raises:
        ValueError: When no JSON value can be found.
    """
    stripped = text.strip()
    candidates = [stripped, *(m.group(1).strip() for m in _FENCE.finditer(stripped))]
    for candidate in candidates:
        try:
            return json.loads(candidate)
        except json.JSONDecodeError:
            continue
    decoder = json.JSONDecoder()
    for index, ch in enumerate(stripped):
        if ch in "{[":
            try:
                value, _ = decoder.raw_decode(stripped, index)
            except json.JSONDecodeError:
                continue
            return value
    raise ValueError("no JSON value found in the answer")


def json_equal(a: Any, b: Any, *, normalized: bool) -> bool:
    """Deep equality of JSON values; numbers compare by value (1 == 1.0); strings optionally normalised."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(json_equal(a[k], b[k], normalized=normalized) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(json_equal(x, y, normalized=normalized) for x, y in zip(a, b, strict=True))
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, str) and isinstance(b, str):
        return normalize(a) == normalize(b) if normalized else a == b
    return bool(a == b)


__all__ = [
    "as_number",
    "choice_target",
    "close",
    "extract_choice",
    "extract_json",
    "extract_numbers",
    "json_equal",
    "normalize",
    "squad_normalize",
    "token_f1",
]
