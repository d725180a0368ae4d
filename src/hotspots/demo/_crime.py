"""Two years of synthetic incidents for the demo town (private).

Crime is drawn as a mixture of processes a British market town shows (volumes per
year for about 20,000 homes; England and Wales rates give roughly 9-11 thousand):

* a night-time economy on the High Street: violence and public order on Friday and
  Saturday nights, 22:00-03:00, clustered at a handful of venues;
* a few residential "hot streets" with persistent violence;
* robbery, weapons and drugs near the centre;
* background crime of every police.uk category at homes, shops and the centre;
* dwelling burglary as a self-exciting process: each burglary spawns follow-on
  burglaries of homes within 400 m and 42 days, nearer and sooner being likelier
  (the near-repeat pattern of Townsley, Homel & Chaseling 2003 and Johnson & Bowers
  2004; the Hawkes-process view of Mohler et al. 2011).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from hotspots.demo._town import CENTRE_E, CENTRE_N, Layout

TZ = "Europe/London"

# police.uk crime types, exactly as police.uk spells them
POLICE_UK_CATEGORIES = (
    "Anti-social behaviour",
    "Bicycle theft",
    "Burglary",
    "Criminal damage and arson",
    "Drugs",
    "Other crime",
    "Other theft",
    "Possession of weapons",
    "Public order",
    "Robbery",
    "Shoplifting",
    "Theft from the person",
    "Vehicle crime",
    "Violence and sexual offences",
)

BURGLARY = "Burglary"
RESIDENTIAL = "Residential burglary"
NON_RESIDENTIAL = "Non-residential burglary"
VIOLENCE = "Violence and sexual offences"
PUBLIC_ORDER = "Public order"

# ONS subgroups (the spelling of the cchi-2026-subgroups harm table) and their shares
SUBGROUPS: dict[str, tuple[tuple[str, ...], tuple[float, ...]]] = {
    VIOLENCE: (
        (
            "Violence with injury",
            "Violence without injury",
            "Stalking and harassment",
            "Other sexual offences",
            "Rape",
            "Homicide",
        ),
        (0.30, 0.40, 0.245, 0.04, 0.014, 0.001),
    ),
    "Robbery": (("Robbery of personal property", "Robbery of business property"), (0.9, 0.1)),
    "Criminal damage and arson": (("Criminal damage", "Arson"), (0.95, 0.05)),
    "Drugs": (("Drug possession", "Drug trafficking"), (0.8, 0.2)),
    "Possession of weapons": (("Possession of weapons offences",), (1.0,)),
    PUBLIC_ORDER: (("Public order offences",), (1.0,)),
    "Vehicle crime": (("Vehicle offences",), (1.0,)),
    "Theft from the person": (("Theft from the person",), (1.0,)),
    "Bicycle theft": (("Bicycle theft",), (1.0,)),
    "Other theft": (("All other theft offences",), (1.0,)),
    "Shoplifting": (("Shoplifting",), (1.0,)),
    "Other crime": (("Miscellaneous crimes against society",), (1.0,)),
    # anti-social behaviour is not a notifiable crime and has no ONS subgroup
}
NTE_VIOLENCE_CODES = (("Violence with injury", "Violence without injury"), (0.45, 0.55))

# hour-of-day profiles (index 0 = 00:00-00:59), normalised when used
# fmt: off
_HOURS = {
    "day": np.array([1, 1, 1, 1, 1, 1, 2, 4, 6, 8, 10, 11, 12, 12, 12, 12, 11, 10, 8, 6, 4, 3,
                     2, 1], float),
    "evening": np.array([6, 5, 4, 3, 2, 1, 1, 2, 3, 4, 5, 6, 7, 7, 7, 8, 9, 10, 11, 12, 12, 11,
                         10, 8], float),
    "night": np.array([10, 9, 7, 5, 3, 2, 1, 1, 2, 2, 3, 3, 4, 4, 4, 4, 5, 5, 6, 7, 8, 9,
                       10, 10], float),
    "burglary": np.array([3, 3, 2, 2, 2, 2, 2, 3, 5, 7, 8, 8, 8, 8, 8, 8, 9, 10, 11, 10, 8, 6,
                          5, 4], float),
    "flat": np.ones(24),
}
# fmt: on

# background crime a year: category -> (count, hour profile, where mix as
# (homes, centre, hot streets, shops))
BACKGROUND_PER_YEAR: dict[str, tuple[int, str, tuple[float, float, float, float]]] = {
    VIOLENCE: (2550, "evening", (0.70, 0.30, 0.0, 0.0)),
    "Anti-social behaviour": (1000, "evening", (0.50, 0.30, 0.20, 0.0)),
    "Shoplifting": (800, "day", (0.0, 0.0, 0.0, 1.0)),
    "Criminal damage and arson": (800, "evening", (0.80, 0.20, 0.0, 0.0)),
    PUBLIC_ORDER: (350, "evening", (0.50, 0.50, 0.0, 0.0)),
    "Vehicle crime": (600, "night", (1.0, 0.0, 0.0, 0.0)),
    "Other theft": (600, "day", (0.60, 0.40, 0.0, 0.0)),
    "Drugs": (350, "evening", (0.20, 0.50, 0.30, 0.0)),
    "Other crime": (200, "flat", (0.85, 0.15, 0.0, 0.0)),
    "Possession of weapons": (100, "night", (0.20, 0.70, 0.10, 0.0)),
    "Robbery": (90, "night", (0.20, 0.80, 0.0, 0.0)),
    "Bicycle theft": (80, "day", (0.60, 0.40, 0.0, 0.0)),
    "Theft from the person": (70, "day", (0.0, 0.80, 0.0, 0.20)),
}
NTE_PER_YEAR = {VIOLENCE: 900, PUBLIC_ORDER: 350}
HOT_STREET_VIOLENCE_PER_YEAR = 150  # each hot street
NON_DWELLING_BURGLARY_PER_YEAR = 35
SEED_BURGLARY_PER_YEAR = 220
# near-repeat: mean follow-ons per burglary (branching ratio), their distance and delay
NEAR_REPEAT_BRANCHING = 0.45
NEAR_REPEAT_RADIUS_M = 400.0
NEAR_REPEAT_WINDOW_DAYS = 42.0
# a mixture: most follow-ons next door within days, a tail out to 400 m and six weeks
NEAR_REPEAT_CLOSE_SHARE = 0.55
NEAR_REPEAT_MEAN_DISTANCE_M = (50.0, 250.0)  # close, wide component
NEAR_REPEAT_MEAN_DAYS = (5.0, 20.0)
CENTRE_SPREAD_M = 250.0


@dataclass(frozen=True)
class Period:
    """The incident window: ``[start, end)`` in local wall-clock time (naive)."""

    start: pd.Timestamp
    end: pd.Timestamp

    @property
    def days(self) -> int:
        return int((self.end - self.start).days)

    @property
    def years(self) -> float:
        return self.days / 365.25


@dataclass(frozen=True)
class Draws:
    """Incidents as plain arrays, before they become a GeoDataFrame."""

    seconds: np.ndarray  # seconds after period start (local wall clock)
    x: np.ndarray
    y: np.ndarray
    offence: np.ndarray
    offence_code: np.ndarray  # object; None where the category has no subgroup
    dwelling: np.ndarray
    home: np.ndarray  # index of the home burgled, -1 otherwise

    @staticmethod
    def concat(parts: list[Draws]) -> Draws:
        return Draws(
            *(
                np.concatenate([getattr(p, f) for p in parts])
                for f in ("seconds", "x", "y", "offence", "offence_code", "dwelling", "home")
            )
        )


def _hours(rng: np.random.Generator, n: int, profile: str) -> np.ndarray:
    p = _HOURS[profile]
    return rng.choice(24, n, p=p / p.sum())


def _times(rng: np.random.Generator, period: Period, n: int, profile: str) -> np.ndarray:
    """Seconds after the period start: a uniform day, an hour from ``profile``."""
    day = rng.integers(0, period.days, n)
    return day * 86_400 + _hours(rng, n, profile) * 3_600 + rng.integers(0, 3_600, n)


def _nte_times(rng: np.random.Generator, period: Period, n: int) -> np.ndarray:
    """Night-time economy: 22:00-03:00, Friday and Saturday nights (85%) or others."""
    first_weekday = period.start.day_of_week  # Monday 0
    weekday = (first_weekday + np.arange(period.days)) % 7
    weight = np.where(np.isin(weekday, (4, 5)), 8.5, 0.3)  # Fri, Sat nights
    day = rng.choice(period.days, n, p=weight / weight.sum())
    minutes = rng.triangular(0.0, 130.0, 300.0, n)  # peak around midnight
    seconds = day * 86_400 + 22 * 3_600 + np.floor(minutes * 60).astype(np.int64)
    return np.minimum(seconds, period.days * 86_400 - 1)


def _codes(rng: np.random.Generator, category: str, n: int) -> np.ndarray:
    out = np.full(n, None, dtype=object)
    if category in SUBGROUPS:
        names, shares = SUBGROUPS[category]
        p = np.asarray(shares) / np.sum(shares)
        out[:] = np.asarray(names, dtype=object)[rng.choice(len(names), n, p=p)]
    return out


def _near(
    rng: np.random.Generator,
    xy: np.ndarray,
    n: int,
    *,
    spread_m: float,
    weights: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Points scattered around centres ``xy`` (k, 2) with a normal spread."""
    k = rng.choice(len(xy), n, p=None if weights is None else weights / weights.sum())
    return (xy[k, 0] + rng.normal(0, spread_m, n), xy[k, 1] + rng.normal(0, spread_m, n))


def _on_streets(
    rng: np.random.Generator, layout: Layout, names: tuple[str, ...], n: int
) -> tuple[np.ndarray, np.ndarray]:
    """Points along the named streets, within a few metres of the carriageway."""
    lines = layout.streets.set_index("street").geometry.loc[list(names)].to_numpy()
    which = rng.integers(0, len(lines), n)
    pts = shapely.line_interpolate_point(lines[which], rng.uniform(0, 1, n), normalized=True)
    return (shapely.get_x(pts) + rng.normal(0, 6, n), shapely.get_y(pts) + rng.normal(0, 6, n))


def _at_homes(
    rng: np.random.Generator, home_xy: np.ndarray, n: int, *, spread_m: float = 6.0
) -> tuple[np.ndarray, np.ndarray]:
    k = rng.integers(0, len(home_xy), n)
    return (home_xy[k, 0] + rng.normal(0, spread_m, n), home_xy[k, 1] + rng.normal(0, spread_m, n))


def _located(
    rng: np.random.Generator,
    layout: Layout,
    home_xy: np.ndarray,
    n: int,
    mix: tuple[float, float, float, float],
) -> tuple[np.ndarray, np.ndarray]:
    """Points drawn from homes, the centre, the hot streets and the shops in ``mix``."""
    mix_arr = np.asarray(mix, float)
    if not layout.hot_streets:
        mix_arr[0] += mix_arr[2]
        mix_arr[2] = 0.0
    counts = rng.multinomial(n, mix_arr / mix_arr.sum())
    centre = np.array([[CENTRE_E, CENTRE_N]])
    xs, ys = [np.empty(0)], [np.empty(0)]
    for kind, m in enumerate(counts):
        if m == 0:
            continue
        if kind == 0:
            x, y = _at_homes(rng, home_xy, m)
        elif kind == 1:
            x, y = _near(rng, centre, m, spread_m=CENTRE_SPREAD_M)
        elif kind == 2:
            x, y = _on_streets(rng, layout, layout.hot_streets, m)
        else:
            x, y = _near(rng, layout.shops_xy, m, spread_m=12.0, weights=layout.shop_weights)
        xs.append(x)
        ys.append(y)
    order = rng.permutation(n)  # so the mix is not sorted by place
    return np.concatenate(xs)[order], np.concatenate(ys)[order]


def _plain(
    offence: str, seconds: np.ndarray, x: np.ndarray, y: np.ndarray, codes: np.ndarray
) -> Draws:
    n = len(seconds)
    return Draws(
        seconds=seconds.astype(np.int64),
        x=x,
        y=y,
        offence=np.full(n, offence, dtype=object),
        offence_code=codes,
        dwelling=np.zeros(n, dtype=bool),
        home=np.full(n, -1, dtype=np.int64),
    )


def _truncated_exponential(
    rng: np.random.Generator, n: int, *, mean: float | np.ndarray, upper: float
) -> np.ndarray:
    """Exponential(mean) draws conditioned on being <= upper (inverse CDF)."""
    u = rng.uniform(0, 1, n)
    return -mean * np.log1p(-u * (1 - np.exp(-upper / mean)))


def _burglaries(rng: np.random.Generator, layout: Layout, period: Period) -> Draws:
    """Dwelling burglaries: seed burglaries plus generations of near-repeat follow-ons."""
    homes = layout.homes
    home_xy = homes.get_coordinates().to_numpy()
    tree = cKDTree(home_xy)
    # risk varies by district and peaks in two pockets of older terraced streets
    area_risk = {
        "Eastfield (SYNTHETIC)": 1.5,
        "Westmead (SYNTHETIC)": 1.0,
        "Northgate (SYNTHETIC)": 0.7,
        "Town Centre (SYNTHETIC)": 0.6,
    }
    risk = np.array(homes["area"].map(area_risk), dtype=float)
    for _ in range(2):
        cx, cy = home_xy[rng.integers(0, len(home_xy))]
        risk *= 1 + 1.5 * np.exp(
            -((home_xy[:, 0] - cx) ** 2 + (home_xy[:, 1] - cy) ** 2) / (2 * 350.0**2)
        )
    n_seed = int(rng.poisson(SEED_BURGLARY_PER_YEAR * period.years))
    home = rng.choice(len(homes), n_seed, p=risk / risk.sum())
    seconds = _times(rng, period, n_seed, "burglary").astype(np.float64)
    all_home, all_sec = [home], [seconds]
    limit = period.days * 86_400
    for _generation in range(30):
        n_child = rng.poisson(NEAR_REPEAT_BRANCHING, len(home))
        parent = np.repeat(np.arange(len(home)), n_child)
        if len(parent) == 0:
            break
        m = len(parent)
        wide = (rng.uniform(0, 1, m) >= NEAR_REPEAT_CLOSE_SHARE).astype(np.int64)
        dist = _truncated_exponential(
            rng, m, mean=np.take(NEAR_REPEAT_MEAN_DISTANCE_M, wide), upper=NEAR_REPEAT_RADIUS_M
        )
        angle = rng.uniform(0, 2 * np.pi, m)
        target = home_xy[home[parent]] + np.column_stack(
            [dist * np.cos(angle), dist * np.sin(angle)]
        )
        _, near = tree.query(target, k=2)
        child = np.where(near[:, 0] == home[parent], near[:, 1], near[:, 0])
        gap = np.hypot(*(home_xy[child] - home_xy[home[parent]]).T)
        lag_days = _truncated_exponential(
            rng, m, mean=np.take(NEAR_REPEAT_MEAN_DAYS, wide), upper=NEAR_REPEAT_WINDOW_DAYS
        )
        child_sec = seconds[parent] + np.maximum(np.round(lag_days * 86_400), 600)
        ok = (gap <= NEAR_REPEAT_RADIUS_M) & (child_sec < limit)
        home, seconds = child[ok], child_sec[ok]
        all_home.append(home)
        all_sec.append(seconds)
    home = np.concatenate(all_home)
    seconds = np.concatenate(all_sec)
    n = len(home)
    return Draws(
        seconds=seconds.astype(np.int64),
        x=home_xy[home, 0],
        y=home_xy[home, 1],
        offence=np.full(n, BURGLARY, dtype=object),
        offence_code=np.full(n, RESIDENTIAL, dtype=object),
        dwelling=np.ones(n, dtype=bool),
        home=home.astype(np.int64),
    )


def draw_incidents(rng: np.random.Generator, layout: Layout, period: Period) -> Draws:
    """Every incident of the period, in no particular order."""
    home_xy = layout.homes.get_coordinates().to_numpy()
    years = period.years
    parts = []
    for category, per_year in NTE_PER_YEAR.items():
        n = int(rng.poisson(per_year * years))
        x, y = _near(rng, layout.venues_xy, n, spread_m=28.0, weights=layout.venue_weights)
        codes = (
            np.asarray(NTE_VIOLENCE_CODES[0], dtype=object)[
                rng.choice(2, n, p=NTE_VIOLENCE_CODES[1])
            ]
            if category == VIOLENCE
            else _codes(rng, category, n)
        )
        parts.append(_plain(category, _nte_times(rng, period, n), x, y, codes))
    if layout.hot_streets:
        n = int(rng.poisson(HOT_STREET_VIOLENCE_PER_YEAR * len(layout.hot_streets) * years))
        x, y = _on_streets(rng, layout, layout.hot_streets, n)
        parts.append(
            _plain(VIOLENCE, _times(rng, period, n, "evening"), x, y, _codes(rng, VIOLENCE, n))
        )
    for category, (per_year, profile, mix) in BACKGROUND_PER_YEAR.items():
        n = int(rng.poisson(per_year * years))
        x, y = _located(rng, layout, home_xy, n, mix)
        parts.append(
            _plain(category, _times(rng, period, n, profile), x, y, _codes(rng, category, n))
        )
    n = int(rng.poisson(NON_DWELLING_BURGLARY_PER_YEAR * years))
    x, y = _located(rng, layout, home_xy, n, (0.3, 0.5, 0.0, 0.2))
    non_dwelling = _plain(
        BURGLARY, _times(rng, period, n, "night"), x, y, np.full(n, NON_RESIDENTIAL, dtype=object)
    )
    parts.append(non_dwelling)
    parts.append(_burglaries(rng, layout, period))
    return Draws.concat(parts)
