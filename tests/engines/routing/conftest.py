from pathlib import Path

import pytest

from engines.paths import shared_data

DATA = shared_data("routing")  # ../shared beside the checkout, or $NEURAL_STUDIO_SHARED


@pytest.fixture(scope="session")
def data_dir() -> Path:
    if not DATA.exists():
        pytest.skip("routing data not found")
    return DATA
