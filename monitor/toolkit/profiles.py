"""Marketplace profiles for the traffic generator: cities, daily curve, store sizes, ratings and review texts."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta, timezone

__all__ = [
    "City",
    "DEFAULT_CITIES",
    "HOURLY_WEIGHTS",
    "Store",
    "build_stores",
    "pick_rating",
    "pick_text",
]


@dataclass(frozen=True, slots=True)
class City:
    """A city: its id in messages, its share of stores and orders, and its fixed UTC offset (no DST in Russia)."""

    name: str
    weight: float
    utc_offset_h: int

    @property
    def tz(self) -> timezone:
        return timezone(timedelta(hours=self.utc_offset_h))


# Moscow carries about a third of the market; the rest spreads over the large regional capitals.
DEFAULT_CITIES: tuple[City, ...] = (
    City("Moscow", 0.34, 3),
    City("Saint-Petersburg", 0.16, 3),
    City("Kazan", 0.09, 3),
    City("Yekaterinburg", 0.09, 5),
    City("Novosibirsk", 0.08, 7),
    City("Krasnodar", 0.09, 3),
    City("Nizhny-Novgorod", 0.08, 3),
    City("Samara", 0.07, 4),
)

# Relative order rate per local hour: quiet nights, busy 9:00-20:00, a lunch and an after-work bump.
HOURLY_WEIGHTS: tuple[float, ...] = (
    0.15, 0.10, 0.06, 0.05, 0.05, 0.08, 0.20, 0.45,  # 00-07
    0.90, 1.50, 1.80, 1.90, 2.00, 1.90, 1.80, 1.80,  # 08-15
    1.85, 1.90, 1.80, 1.50, 1.10, 0.70, 0.40, 0.25,  # 16-23
)

# Zipf exponent of store sizes: with 300 stores the top 10% take about 40% of orders, the largest about 5%.
STORE_SIZE_EXPONENT = 0.65


@dataclass(frozen=True, slots=True)
class Store:
    """A partner store: id, city and its share of the marketplace's orders (shares of all stores sum to 1)."""

    store_id: str
    city: City
    share: float


def build_stores(rng: random.Random, n: int, cities: Sequence[City]) -> tuple[Store, ...]:
    """``n`` stores with Zipf-like sizes in random id order, each in a city drawn by the cities' weights."""
    if n < 1:
        raise ValueError(f"stores: need at least one store, got {n}")
    sizes = [(rank + 1) ** -STORE_SIZE_EXPONENT for rank in range(n)]
    rng.shuffle(sizes)  # ids do not reveal size
    total = sum(sizes)
    city_list = list(cities)
    city_weights = [c.weight for c in city_list]
    return tuple(
        Store(f"st-{i + 1:04d}", rng.choices(city_list, city_weights)[0], size / total)
        for i, size in enumerate(sizes)
    )


def pick_rating(rng: random.Random, negative: bool) -> int:
    """A rating: 1-2 when negative, otherwise mostly 5, some 4 and a few neutral 3."""
    if negative:
        return 1 if rng.random() < 0.6 else 2
    u = rng.random()
    return 5 if u < 0.78 else 4 if u < 0.95 else 3


_TEXTS: dict[int, tuple[str, ...]] = {
    5: ("Прекрасный букет, спасибо!", "Всё вовремя, цветы свежие", "Lovely flowers, on time", "Очень довольна",
        "Курьер вежливый, букет как на фото", "Perfect, thank you!", ""),
    4: ("Хороший букет, но немного позже", "Нормально, цветы свежие", "Nice bouquet, packaging could be better",
        "В целом хорошо", ""),
    3: ("Букет меньше, чем на фото", "Средне", "OK, nothing special", "Доставили, но без открытки"),
    2: ("Цветы не первой свежести", "Опоздали почти на час", "Bouquet looked nothing like the photo",
        "Не дозвонились до магазина"),
    1: ("Заказ так и не привезли вовремя", "Вялые цветы, деньги на ветер", "Never again, arrived late and wilted",
        "Магазин не отвечает, праздник испорчен", "Ужасно"),
}


def pick_text(rng: random.Random, rating: int) -> str:
    """A short plausible review text for the rating (Russian or English; sometimes empty for good ratings)."""
    return rng.choice(_TEXTS[rating])
