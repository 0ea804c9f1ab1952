"""City size classes from the gazetteer's population: what lets a lead compare small towns
with medium cities, the question the demo corpus is about.

The default thresholds follow the usual European reading of "small and medium-sized
cities" (the Committee of the Regions study in the demo corpus uses it): small under
50,000 inhabitants, medium 50,000 to 249,999, large 250,000 and over. They are settable
with ``WORKBENCH_CITY_SIZES=SMALL_BELOW,LARGE_FROM`` (two whole numbers).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from .errors import InvalidInput

ENV_CITY_SIZES = "WORKBENCH_CITY_SIZES"
SIZES = ("small", "medium", "large")
UNKNOWN = "size unknown"  # a case city the gazetteer gives no population for


@dataclass(frozen=True)
class SizeLimits:
    small_below: int = 50_000
    large_from: int = 250_000

    def classify(self, population: int | None) -> str:
        if population is None:
            return UNKNOWN
        if population < self.small_below:
            return "small"
        return "medium" if population < self.large_from else "large"

    def describe(self) -> str:
        return (f"small: under {self.small_below:,} inhabitants; medium: {self.small_below:,}"
                f" to {self.large_from - 1:,}; large: {self.large_from:,} and over "
                "(the gazetteer's population)")


def limits_from_env() -> SizeLimits:
    """The thresholds in force; a malformed setting is refused in one line."""
    raw = os.environ.get(ENV_CITY_SIZES, "").strip()
    if not raw:
        return SizeLimits()
    try:
        small, large = (int(x) for x in raw.split(","))
    except ValueError:
        raise InvalidInput(f"{ENV_CITY_SIZES}={raw!r}: give two whole numbers, "
                           "SMALL_BELOW,LARGE_FROM (e.g. 50000,250000)") from None
    if not 0 < small < large:
        raise InvalidInput(f"{ENV_CITY_SIZES}={raw!r}: need 0 < SMALL_BELOW < LARGE_FROM")
    return SizeLimits(small, large)
