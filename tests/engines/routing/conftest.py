from pathlib import Path

import pytest

DATA = Path("/work/shared/data/routing")
if not DATA.exists():  # a checkout next to shared/
    DATA = Path(__file__).resolve().parents[4] / "shared" / "data" / "routing"


@pytest.fixture(scope="session")
def data_dir() -> Path:
    if not DATA.exists():
        pytest.skip("routing data not found")
    return DATA
