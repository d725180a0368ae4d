"""The demo town's physical layout: outline, streets, districts and homes (private).

Everything is drawn from one ``numpy.random.Generator`` in a fixed order, in British
National Grid metres around a centre on Salisbury Plain (open country, so the base map
shows few real streets underneath).
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from hotspots.schema import ADDRESS_ID, ADDRESS_TEXT, AREA_NAME, POSTCODE, STREET

CENTRE_E = 405_000.0
CENTRE_N = 148_000.0
TOWN_RADIUS_M = 2_100.0
GRID_SPACING_M = 150.0
HOME_SETBACK_M = 12.0
PLOT_SURPLUS = 1.3  # plots laid out per home built
MIN_HOME_SPACING_M = 5.0
POSTCODE_HOMES = 14  # homes per postcode unit (real units hold about 15)

CENTRE_DISTRICT = "Town Centre (SYNTHETIC)"
# outer districts, by the compass bearing of their middle
OUTER_DISTRICTS = ("Northgate (SYNTHETIC)", "Eastfield (SYNTHETIC)", "Westmead (SYNTHETIC)")
DISTRICT_OUTWARD = {
    CENTRE_DISTRICT: "ZZ1",
    OUTER_DISTRICTS[0]: "ZZ2",
    OUTER_DISTRICTS[1]: "ZZ3",
    OUTER_DISTRICTS[2]: "ZZ4",
}

ARTERIALS = ("London Road", "Plain Road", "Downs Road", "Bath Road", "Market Way")
HIGH_STREET = "High Street"
RING_ROAD = "Ring Road"
# fmt: off
_STEMS = (
    "Mill", "Church", "Station", "Park", "Victoria", "Albert", "Queen's", "King's", "Manor",
    "Orchard", "Meadow", "Chapel", "School", "Spring", "Willow", "Oak", "Ash", "Elm", "Beech",
    "Cedar", "Hazel", "Rowan", "Holly", "Laurel", "Maple", "Birch", "Chestnut", "Juniper",
    "Primrose", "Bluebell", "Foxglove", "Heather", "Clover", "Barley", "Wheatfield", "Harvest",
    "Fairfield", "Greenfield", "Brook", "River", "Bridge", "Ford", "Well", "Pound", "Castle",
    "Abbey", "Priory", "Rectory", "Vicarage", "Tithe", "Drovers", "Shepherds", "Sarsen",
    "Chalk", "Flint", "Barrow", "Ridgeway", "Longbarrow", "Windmill", "Kestrel", "Lapwing",
    "Skylark", "Plover", "Heron", "Swallow", "Martin", "Wren", "Robin", "Linnet", "Fieldfare",
)
_SUFFIXES = ("Lane", "Road", "Street", "Close", "Avenue", "Way", "Drive", "Crescent",
             "Gardens", "Terrace", "Grove", "Walk", "Rise", "View", "Place", "Mews")
# fmt: on
# postcode inward letters: the Royal Mail set (no C, I, K, M, O, V)
_UNIT_LETTERS = np.array(list("ABDEFGHJLNPQRSTUWXYZ"))


@dataclass(frozen=True)
class Layout:
    """Streets, districts and homes of the town, plus the landmarks crime gathers at."""

    outline: shapely.Polygon
    streets: gpd.GeoDataFrame
    districts: gpd.GeoDataFrame
    homes: gpd.GeoDataFrame  # address_id, address, street, postcode, area, geometry
    venues_xy: np.ndarray  # night-time-economy venues on the High Street, (k, 2)
    venue_weights: np.ndarray
    shops_xy: np.ndarray  # retail points: High Street shops then local parades, (k, 2)
    shop_weights: np.ndarray
    hot_streets: tuple[str, ...]  # residential streets with a violence problem


def _outline(rng: np.random.Generator) -> shapely.Polygon:
    """An irregular blob around the centre (about 14 km2)."""
    theta = np.linspace(0.0, 2 * np.pi, 181)[:-1]
    phase = rng.uniform(0, 2 * np.pi, 3)
    r = TOWN_RADIUS_M * (
        1
        + 0.12 * np.sin(2 * theta + phase[0])
        + 0.07 * np.sin(3 * theta + phase[1])
        + 0.04 * np.sin(5 * theta + phase[2])
    )
    return shapely.Polygon(
        np.column_stack([CENTRE_E + r * np.cos(theta), CENTRE_N + r * np.sin(theta)])
    )


def _grid_streets(rng: np.random.Generator) -> list[shapely.LineString]:
    """A slightly irregular, slightly rotated grid, cut into street-length pieces."""
    half = TOWN_RADIUS_M * 1.3
    ticks = np.arange(-half, half + GRID_SPACING_M, GRID_SPACING_M)
    n = len(ticks)
    angle = rng.uniform(-0.2, 0.2)
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    pieces: list[shapely.LineString] = []
    for direction in (0, 1):
        # node (i, j): line i at offset ticks[i] plus a gentle wave, along-line position ticks[j]
        across = ticks[:, None] + rng.normal(0, 9, (n, n))
        across += 18 * np.sin(ticks[None, :] / 700 + rng.uniform(0, 2 * np.pi, (n, 1)))
        along = np.broadcast_to(ticks[None, :], (n, n)) + rng.normal(0, 9, (n, n))
        xy = (
            np.stack([across, along], axis=-1)
            if direction == 0
            else np.stack([along, across], axis=-1)
        )
        xy = xy @ rot.T + np.array([CENTRE_E, CENTRE_N])
        for i in range(n):
            j = 0
            while j < n - 1:
                k = int(rng.integers(3, 8))
                stop = min(j + k, n - 1)
                if rng.random() > 0.07:  # a few blocks missing: cul-de-sacs and open ground
                    pieces.append(shapely.LineString(xy[i, j : stop + 1]))
                j = stop
    return pieces


def _curved_line(
    start: np.ndarray, end: np.ndarray, *, bend_m: float, n: int = 40
) -> shapely.LineString:
    t = np.linspace(0.0, 1.0, n)[:, None]
    d = end - start
    normal = np.array([-d[1], d[0]]) / np.hypot(*d)
    return shapely.LineString(start + t * d + bend_m * np.sin(np.pi * t) * normal)


def _named_streets(rng: np.random.Generator, outline: shapely.Polygon) -> gpd.GeoDataFrame:
    """Arterials, ring road, High Street and the named grid pieces, clipped to the town."""
    centre = np.array([CENTRE_E, CENTRE_N])
    bearings = np.linspace(0, 2 * np.pi, len(ARTERIALS), endpoint=False) + rng.uniform(0, 1.2)
    bearings += rng.normal(0, 0.15, len(bearings))
    lines = []
    for b in bearings:
        direction = np.array([np.cos(b), np.sin(b)])
        lines.append(
            _curved_line(
                centre + 80 * direction,
                centre + 2.6 * TOWN_RADIUS_M * direction,
                bend_m=rng.uniform(-250, 250),
            )
        )
    theta = np.linspace(0, 2 * np.pi, 121)
    r_ring = 0.62 * TOWN_RADIUS_M * (1 + 0.06 * np.sin(3 * theta + rng.uniform(0, 6)))
    ring = shapely.LineString(
        np.column_stack([centre[0] + r_ring * np.cos(theta), centre[1] + r_ring * np.sin(theta)])
    )
    high = _curved_line(
        centre - np.array([330.0, 40.0]), centre + np.array([330.0, 40.0]), bend_m=35.0
    )
    names = [*ARTERIALS, RING_ROAD, HIGH_STREET]
    geoms = [*lines, ring, high]
    grid = _grid_streets(rng)
    combos = [f"{s} {x}" for s in _STEMS for x in _SUFFIXES]
    order = rng.permutation(len(combos))
    pool = [combos[i] for i in order if combos[i] not in names]
    all_names = np.array([*names, *[""] * len(grid)], dtype=object)
    clipped = shapely.intersection(np.array([*geoms, *grid], dtype=object), outline)
    parts, owner = shapely.get_parts(clipped, return_index=True)
    length = shapely.length(parts)
    # where a line leaves the town and comes back, keep its longest piece inside
    order = np.lexsort((-length, owner))
    first = np.ones(len(order), dtype=bool)
    first[1:] = owner[order][1:] != owner[order][:-1]
    keep = order[first]
    keep = keep[(length[keep] > 60.0) | (all_names[owner[keep]] != "")]
    parts, owner = parts[keep], owner[keep]
    n_grid = int((all_names[owner] == "").sum())
    if n_grid > len(pool):
        msg = f"demo town needs {n_grid} street names but has {len(pool)}"
        raise RuntimeError(msg)
    street_names = all_names[owner].copy()
    street_names[street_names == ""] = pool[:n_grid]
    # round to the decimetre, as every coordinate the demo writes
    streets = gpd.GeoDataFrame(
        {STREET: street_names.astype(str)}, geometry=shapely.set_precision(parts, 0.1), crs=27700
    )
    streets = streets.sort_values(STREET, kind="stable").reset_index(drop=True)
    return streets[[STREET, "geometry"]]


def _districts(rng: np.random.Generator, outline: shapely.Polygon) -> gpd.GeoDataFrame:
    """A town-centre district and three wedge districts that cover the whole town."""
    centre = np.array([CENTRE_E, CENTRE_N])
    theta = np.linspace(0, 2 * np.pi, 73)[:-1]
    r = 450 * (1 + 0.1 * np.sin(3 * theta + rng.uniform(0, 6)))
    core = shapely.Polygon(centre + np.column_stack([r * np.cos(theta), r * np.sin(theta)]))
    cover = outline.buffer(150.0)
    # wedges centred on bearings 90 (north), -30 (south-east) and 210 degrees (south-west)
    cuts = np.deg2rad(np.array([150.0, 30.0, -90.0]) + rng.normal(0, 6, 3))
    cuts = np.append(cuts, cuts[0] - 2 * np.pi)
    far = 4 * TOWN_RADIUS_M
    geoms = [core.intersection(cover)]
    for a0, a1 in zip(cuts[:-1], cuts[1:], strict=True):
        arc = np.linspace(a0, a1, 30)
        wedge = shapely.Polygon(
            np.vstack([centre, centre + far * np.column_stack([np.cos(arc), np.sin(arc)])])
        )
        geoms.append(wedge.intersection(cover).difference(core))
    geoms = shapely.set_precision(np.array(geoms, dtype=object), 0.1)
    return gpd.GeoDataFrame(
        {AREA_NAME: [CENTRE_DISTRICT, *OUTER_DISTRICTS]}, geometry=geoms, crs=27700
    )


def _homes(rng: np.random.Generator, streets: gpd.GeoDataFrame, n_homes: int) -> gpd.GeoDataFrame:
    """Homes on both sides of every street, odd numbers on the left, even on the right.

    A third more plots than homes are laid out; plots that would stand in another street
    (at junctions) are left empty, and ``n_homes`` of the rest are built, so house numbers
    skip now and then as real ones do.
    """
    n_plots = int(np.ceil(n_homes * PLOT_SURPLUS))
    lines = streets.geometry.to_numpy()
    length = shapely.length(lines)
    mid = shapely.line_interpolate_point(lines, 0.5, normalized=True)
    dist = np.hypot(shapely.get_x(mid) - CENTRE_E, shapely.get_y(mid) - CENTRE_N)
    kind = np.ones(len(streets))
    names = streets[STREET].to_numpy()
    kind[np.isin(names, ARTERIALS)] = 0.5
    kind[names == RING_ROAD] = 0.3
    kind[names == HIGH_STREET] = 0.15  # shops and bars, a few flats above
    weight = length * kind * (0.75 + 0.6 * np.exp(-dist / 1200.0))
    counts = rng.multinomial(n_plots, weight / weight.sum())
    street_idx = np.repeat(np.arange(len(streets)), counts)
    # rank within street, then side: even ranks left (odd numbers), odd ranks right
    start = np.repeat(np.cumsum(counts) - counts, counts)
    rank = np.arange(n_plots) - start
    side = rank % 2  # 0 left, 1 right
    per_side = np.where(side == 0, (counts[street_idx] + 1) // 2, counts[street_idx] // 2)
    slot = rank // 2
    seg_len = length[street_idx]
    pos = (slot + 0.5 + rng.uniform(-0.25, 0.25, n_plots)) / per_side * seg_len
    pos = np.clip(pos, 1.0, seg_len - 1.0)
    line = lines[street_idx]
    ahead = shapely.line_interpolate_point(line, np.minimum(pos + 1.0, seg_len))
    behind = shapely.line_interpolate_point(line, np.maximum(pos - 1.0, 0.0))
    on = shapely.line_interpolate_point(line, pos)
    dx = shapely.get_x(ahead) - shapely.get_x(behind)
    dy = shapely.get_y(ahead) - shapely.get_y(behind)
    norm = np.hypot(dx, dy)
    norm[norm == 0] = 1.0
    sign = np.where(side == 0, 1.0, -1.0) * HOME_SETBACK_M
    x = np.round(shapely.get_x(on) - sign * dy / norm, 1)
    y = np.round(shapely.get_y(on) + sign * dx / norm, 1)
    points = gpd.points_from_xy(x, y)
    plot, near_street = streets.sindex.query(
        points, predicate="dwithin", distance=HOME_SETBACK_M - 2.0
    )
    in_road = np.zeros(n_plots, dtype=bool)
    in_road[plot[near_street != street_idx[plot]]] = True
    # where two streets run close together, keep one of two plots on the same spot
    crowded = cKDTree(np.column_stack([x, y])).query_pairs(
        MIN_HOME_SPACING_M, output_type="ndarray"
    )
    in_road[crowded.max(axis=1)] = True
    free, blocked = np.flatnonzero(~in_road), np.flatnonzero(in_road)
    if len(free) >= n_homes:
        built = np.sort(rng.choice(free, n_homes, replace=False))
    else:  # a very dense town: fill the shortfall from the junction plots
        extra = rng.choice(blocked, n_homes - len(free), replace=False)
        built = np.sort(np.concatenate([free, extra]))
    number = (2 * slot + 1 + side)[built]
    street = names[street_idx[built]]
    address = np.char.add(np.char.add(number.astype(str), " "), street.astype(str))
    homes = gpd.GeoDataFrame(
        {STREET: street, "number": number, "pos": pos[built]},
        geometry=points[built],
        crs=27700,
    )
    homes[ADDRESS_TEXT] = address
    return homes


def _postcodes(homes: gpd.GeoDataFrame) -> np.ndarray:
    """Postcode units of about 14 neighbouring homes on one street: ZZ<district> <unit>."""
    order = np.lexsort(
        (homes["pos"].to_numpy(), homes[STREET].to_numpy(), homes[AREA_NAME].to_numpy())
    )
    frame = pd.DataFrame(
        {"area": homes[AREA_NAME].to_numpy()[order], "street": homes[STREET].to_numpy()[order]}
    )
    run = frame.groupby(["area", "street"], sort=False).cumcount().to_numpy() // POSTCODE_HOMES
    frame["run"] = run
    unit = frame.groupby(["area", "street", "run"], sort=False).ngroup().to_numpy()
    # number the units 0.. within each area, in order of first appearance
    area_start = pd.Series(unit).groupby(frame["area"].to_numpy()).transform("min").to_numpy()
    k = unit - area_start
    outward = frame["area"].map(DISTRICT_OUTWARD).to_numpy().astype(str)
    over = k // 4000
    outward = np.where(over > 0, np.char.add(outward, over.astype(str)), outward)
    k = k % 4000
    inward = np.char.add(
        np.char.add((k // 400).astype(str), _UNIT_LETTERS[(k // 20) % 20]), _UNIT_LETTERS[k % 20]
    )
    codes = np.empty(len(homes), dtype=object)
    codes[order] = np.char.add(np.char.add(outward, " "), inward)
    return codes


def build_layout(rng: np.random.Generator, *, n_homes: int) -> Layout:
    """Draw the whole layout from ``rng``."""
    outline = _outline(rng)
    streets = _named_streets(rng, outline)
    districts = _districts(rng, outline)
    homes = _homes(rng, streets, n_homes)
    which = districts.sindex.query(homes.geometry, predicate="within")
    area = np.empty(len(homes), dtype=object)
    area[which[0]] = districts[AREA_NAME].to_numpy()[which[1]]
    homes[AREA_NAME] = area
    homes[POSTCODE] = _postcodes(homes)
    # ids follow district, street and number so a printed list reads in order
    order = np.lexsort(
        (homes["number"].to_numpy(), homes[STREET].to_numpy(), homes[AREA_NAME].to_numpy())
    )
    homes = homes.iloc[order].reset_index(drop=True)
    width = max(6, len(str(n_homes)))
    homes[ADDRESS_ID] = [f"SYN{i:0{width}d}" for i in range(1, n_homes + 1)]
    homes = homes[[ADDRESS_ID, ADDRESS_TEXT, STREET, POSTCODE, AREA_NAME, "geometry"]]

    high = streets.geometry[streets[STREET] == HIGH_STREET].iloc[0]
    venues = shapely.line_interpolate_point(
        high, np.array([0.3, 0.42, 0.5, 0.58, 0.66, 0.8]), normalized=True
    )
    venues_xy = shapely.get_coordinates(venues)
    venue_weights = np.array([0.12, 0.24, 0.22, 0.18, 0.14, 0.10])
    shops_high = shapely.get_coordinates(
        shapely.line_interpolate_point(high, np.array([0.2, 0.45, 0.7]), normalized=True)
    )
    # one local parade per outer district: the home nearest the district's middle
    parades = []
    for name in OUTER_DISTRICTS:
        inside = homes[homes[AREA_NAME] == name]
        target = districts.geometry[districts[AREA_NAME] == name].iloc[0].representative_point()
        d = inside.geometry.distance(target).to_numpy()
        parades.append(shapely.get_coordinates(inside.geometry.iloc[int(np.argmin(d))])[0])
    shops_xy = np.vstack([shops_high, np.array(parades)])
    shop_weights = np.array([0.25, 0.2, 0.15, 0.14, 0.13, 0.13])

    # hot streets: long residential streets 700-1700 m out, one per outer district
    lines = streets.geometry.to_numpy()
    mid = shapely.line_interpolate_point(lines, 0.5, normalized=True)
    dist = np.hypot(shapely.get_x(mid) - CENTRE_E, shapely.get_y(mid) - CENTRE_N)
    mid_area = districts.sindex.query(gpd.GeoSeries(mid, crs=27700), predicate="within")
    street_area = np.full(len(streets), None, dtype=object)
    street_area[mid_area[0]] = districts[AREA_NAME].to_numpy()[mid_area[1]]
    candidates = (
        (dist > 700)
        & (dist < 1700)
        & (shapely.length(lines) > 500)
        & ~np.isin(streets[STREET].to_numpy(), [*ARTERIALS, RING_ROAD, HIGH_STREET])
    )
    hot = []
    for name in OUTER_DISTRICTS:
        pick = np.flatnonzero(candidates & (street_area == name))
        if len(pick):
            hot.append(str(streets[STREET].iloc[int(rng.choice(pick))]))
    return Layout(
        outline=outline,
        streets=streets,
        districts=districts,
        homes=homes,
        venues_xy=venues_xy,
        venue_weights=venue_weights,
        shops_xy=shops_xy,
        shop_weights=shop_weights,
        hot_streets=tuple(hot),
    )
