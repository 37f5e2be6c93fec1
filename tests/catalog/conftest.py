from __future__ import annotations

from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parent / "data"
SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"


@pytest.fixture
def data() -> Path:
    """Folder of the importer fixtures."""
    return DATA


@pytest.fixture
def shared_data() -> Path:
    """The project's shared data folder (skips the test when it is not there)."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"{SHARED_DATA} not present")
    return SHARED_DATA
