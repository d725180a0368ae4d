"""The weighted displacement difference test (Wheeler & Ratcliffe 2018).

Wheeler, A. P. & Ratcliffe, J. H. (2018). A simple weighted displacement difference test to
evaluate place based crime interventions. *Crime Science* 7:11,
https://doi.org/10.1186/s40163-018-0085-5.

With counts before (0) and after (1) in the treated area T, its control C, the displacement
area D (a buffer around T) and the displacement area's control Cd::

    WDD = (T1 - T0) - (C1 - C0) + (D1 - D0) - (Cd1 - Cd0)
    Var(WDD) = T0 + T1 + C0 + C1 + D0 + D1 + Cd0 + Cd1      (independent Poisson counts)

``z = WDD / sqrt(Var)``; the two-sided p-value and the confidence interval follow from the
normal approximation. A negative WDD is a fall in crime net of the control trend and of any
displacement. Counts can be divided by time weights (before and after windows of different
lengths; Wheeler 2021, "The WDD test with different pre/post time periods") and by area
weights (areas of different sizes; Wheeler 2021, "The WDD test with different area
sizes"): a count ``n`` divided by ``w`` contributes ``n / w**2`` to the variance.

The harm-weighted form replaces counts by summed harm: each incident of harm ``h`` adds
``h`` to its cell and ``h**2`` to the variance (a weighted sum of Poisson counts), which is
the same as combining one WDD per offence category weighted by its harm (``wdd_harm`` in
Wheeler's ptools).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

from scipy.stats import norm

from hotspots._validate import check_positive
from hotspots.errors import OptionError

__all__ = ["AREA_ROLES", "WDDResult", "wdd", "wdd_from_sums"]

# the order of area_weights, as in ptools: control, treated, displacement control, displacement
AREA_ROLES = ("control", "treated", "displacement_control", "displacement")


@dataclass(frozen=True)
class WDDResult:
    """One WDD test (counts or harm).

    Attributes
    ----------
    local, se_local
        ``(T1 - T0) - (C1 - C0)`` and its standard error.
    displacement, se_displacement
        ``(D1 - D0) - (Cd1 - Cd0)`` and its standard error.
    wdd, se
        The total, ``local + displacement``, and its standard error.
    z, p_value
        ``wdd / se`` and the two-sided normal p-value.
    ci_low, ci_high
        ``1 - alpha`` confidence interval of ``wdd``.
    alpha
        Level of the interval (default 0.05, a 95% interval).
    """

    local: float
    se_local: float
    displacement: float
    se_displacement: float
    wdd: float
    se: float
    z: float
    p_value: float
    ci_low: float
    ci_high: float
    alpha: float

    def to_dict(self) -> dict[str, float]:
        """Plain record for CSV and run.json."""
        return {k: float(v) for k, v in asdict(self).items()}


def _pair(values: Sequence[float], *, name: str) -> tuple[float, float]:
    if len(values) != 2:
        msg = f"{name} must be (before, after); got {tuple(values)!r}."
        raise OptionError(msg)
    before, after = (float(v) for v in values)
    if before < 0 or after < 0 or math.isnan(before) or math.isnan(after):
        msg = f"{name} must be two non-negative numbers (before, after); got {tuple(values)!r}."
        raise OptionError(msg)
    return before, after


def wdd_from_sums(
    sums: dict[str, tuple[float, float]],
    variances: dict[str, tuple[float, float]],
    *,
    time_weights: Sequence[float] = (1.0, 1.0),
    area_weights: Sequence[float] = (1.0, 1.0, 1.0, 1.0),
    alpha: float = 0.05,
) -> WDDResult:
    """WDD from per-area (before, after) sums and their Poisson variances.

    Parameters
    ----------
    sums
        Role (``AREA_ROLES``) -> (before, after) counts or harm sums; missing roles are
        (0, 0).
    variances
        Role -> (before, after) variance contributions: the counts themselves for counts,
        the sums of squared harm for harm.
    time_weights
        (before, after) lengths in any common unit, e.g. (2, 1) for a before window twice
        as long as the after window.
    area_weights
        Sizes of (control, treated, displacement control, displacement).
    alpha
        1 - confidence level (default 0.05).
    """
    tw = [check_positive(float(w), name="time_weights") for w in time_weights]
    aw = [check_positive(float(w), name="area_weights") for w in area_weights]
    if len(tw) != 2 or len(aw) != 4:
        msg = "time_weights needs 2 values (before, after) and area_weights 4 (see AREA_ROLES)."
        raise OptionError(msg)
    if not 0 < alpha < 1:
        msg = f"alpha must be between 0 and 1 (e.g. 0.05); got {alpha!r}."
        raise OptionError(msg)
    delta, var = {}, {}
    for role, a in zip(AREA_ROLES, aw, strict=True):
        s0, s1 = _pair(sums.get(role, (0.0, 0.0)), name=f"{role} sums")
        v0, v1 = _pair(variances.get(role, (0.0, 0.0)), name=f"{role} variances")
        delta[role] = s1 / (tw[1] * a) - s0 / (tw[0] * a)
        var[role] = v1 / (tw[1] * a) ** 2 + v0 / (tw[0] * a) ** 2
    local = delta["treated"] - delta["control"]
    disp = delta["displacement"] - delta["displacement_control"]
    v_local = var["treated"] + var["control"]
    v_disp = var["displacement"] + var["displacement_control"]
    total, se = local + disp, math.sqrt(v_local + v_disp)
    z = total / se if se > 0 else 0.0
    crit = float(norm.ppf(1 - alpha / 2))
    return WDDResult(
        local=local,
        se_local=math.sqrt(v_local),
        displacement=disp,
        se_displacement=math.sqrt(v_disp),
        wdd=total,
        se=se,
        z=z,
        p_value=float(2 * norm.sf(abs(z))),
        ci_low=total - crit * se,
        ci_high=total + crit * se,
        alpha=alpha,
    )


def wdd(
    treated: Sequence[float],
    control: Sequence[float],
    *,
    displacement: Sequence[float] = (0, 0),
    displacement_control: Sequence[float] = (0, 0),
    time_weights: Sequence[float] = (1.0, 1.0),
    area_weights: Sequence[float] = (1.0, 1.0, 1.0, 1.0),
    alpha: float = 0.05,
) -> WDDResult:
    """WDD test on (before, after) crime counts.

    Examples
    --------
    The worked example of Wheeler & Ratcliffe (2018): treated 207 -> 110, control
    308 -> 318, displacement 178 -> 157, displacement control 150 -> 140.

    >>> r = wdd((207, 110), (308, 318), displacement=(178, 157),
    ...         displacement_control=(150, 140))
    >>> r.wdd, round(r.se ** 2), round(r.z, 2), round(r.ci_low), round(r.ci_high)
    (-118.0, 1568, -2.98, -196, -40)
    """
    counts = {
        "treated": treated,
        "control": control,
        "displacement": displacement,
        "displacement_control": displacement_control,
    }
    sums = {k: _pair(v, name=f"{k} counts") for k, v in counts.items()}
    return wdd_from_sums(
        sums, sums, time_weights=time_weights, area_weights=area_weights, alpha=alpha
    )
