from __future__ import annotations

from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
HW1_2022 = SHARED_DATA / "hw01_2022"
HW1_2021 = SHARED_DATA / "hw01_2021"


@pytest.fixture
def hw1_2022() -> Path:
    if not (HW1_2022 / "covid.train.csv").exists():
        pytest.skip(f"the HW1 2022 data is not at {HW1_2022} (it sits in shared/data beside the checkout)")
    return HW1_2022


@pytest.fixture
def hw1_2021() -> Path:
    if not (HW1_2021 / "covid.train.csv").exists():
        pytest.skip(f"the HW1 2021 data is not at {HW1_2021} (it sits in shared/data beside the checkout)")
    return HW1_2021
