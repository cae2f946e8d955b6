"""The baseline of the crafted hospital, learned once per test module from its normal-day capture."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.detect.scenes import normal_day
from wardwatch.detect.interface import DetectionContext
from wardwatch.inventory.repository import Inventory
from wardwatch.pipeline.analyze import analyze_captures
from wardwatch.prevent.policy import generate
from wardwatch.prevent.service import directory_of, learn_baseline


@pytest.fixture(scope="module")
def learned(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, DetectionContext]:
    """(the normal-day capture, a detection context with its baseline and generated policy)."""
    folder = tmp_path_factory.mktemp("detect")
    pcap = normal_day().write(folder / "normal.pcap")
    inventory = Inventory.open(f"sqlite:///{folder / 'ww.db'}")
    analyze_captures([pcap], inventory)
    baseline = learn_baseline(inventory)
    directory = directory_of(inventory)
    ctx = DetectionContext(directory=directory, baseline=baseline, policy=generate(baseline, directory))
    inventory.close()
    return pcap, ctx
