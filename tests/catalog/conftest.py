from __future__ import annotations

from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parent / "data"
SHARED_DATA = Path(__file__).resolve().parents[1] / "data" / "shared"


@pytest.fixture
def data() -> Path:
    """Folder of the importer fixtures."""
    return DATA


@pytest.fixture
def shared_data() -> Path:
    """The public data sets from the project's shared folder, as copied into tests/data/shared."""
    return SHARED_DATA
