"""What a model is for: ``chat``, ``embedding``, ``image``, ``audio``, ``moderation``, ``rerank``, ``video``.

A model's kind comes from its sources' metadata when they give it (LiteLLM's ``mode``, models.dev's
``modalities``, OpenRouter's ``architecture.modality``), stored with the model; otherwise from a
name rule applied when the catalog is read (:func:`kind_from_name`), the last resort. Market
analyses consider chat models unless asked for another kind.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

CHAT = "chat"
MODEL_KINDS = (CHAT, "embedding", "image", "audio", "video", "moderation", "rerank")
"""Every model kind."""

LITELLM_MODES = {
    "chat": CHAT, "completion": CHAT, "responses": CHAT, "embedding": "embedding",
    "image_generation": "image", "image_edit": "image", "audio_transcription": "audio", "audio_speech": "audio",
    "realtime": "audio", "moderation": "moderation", "rerank": "rerank", "video_generation": "video",
}
"""LiteLLM's ``mode`` values and the kind each names."""

_NAME_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("embedding", re.compile(r"embed")),
    ("rerank", re.compile(r"rerank")),
    ("moderation", re.compile(r"moderation|guard(?!ian)|shield")),
    ("audio", re.compile(r"whisper|(^|-)tts($|-)|transcribe|speech|voxtral|(^|-)audio($|-)|realtime|eleven|lyria")),
    ("image", re.compile(r"dall-e|imagen|(^|-)image($|-)|flux|stable-diffusion|sdxl|gpt-image|cogview|seedream")),
    ("video", re.compile(r"(^|-)veo|sora|(^|-)video($|-)|seedance|kling")),
)


def kind_from_litellm(mode: object) -> str | None:
    """The kind LiteLLM's ``mode`` names (None when absent or unknown)."""
    return LITELLM_MODES.get(mode) if isinstance(mode, str) else None


def kind_from_modalities(outputs: Iterable[str]) -> str | None:
    """The kind from output modalities: text -> chat, else image, audio, video or embedding."""
    out = {str(o).strip().lower() for o in outputs}
    if not out:
        return None
    if "text" in out:
        return CHAT
    for name, kind in (("embedding", "embedding"), ("embeddings", "embedding"), ("image", "image"),
                       ("audio", "audio"), ("video", "video")):
        if name in out:
            return kind
    return None


def kind_from_name(model_id: str) -> str:
    """The last-resort rule on a model id: ``text-embedding-3-small`` -> embedding; anything else -> chat."""
    for kind, pattern in _NAME_RULES:
        if pattern.search(model_id):
            return kind
    return CHAT
