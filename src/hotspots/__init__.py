"""hotspots: harm-spot and cocooning planner for police crime analysts.

Rank small places by crime harm (Cambridge Crime Harm Index), plan Grip-style patrols,
open near-repeat burglary cocoon zones with visit lists, test near-repeat with Knox, and
write maps and planner exports. Metres inside (EPSG:27700 in Great Britain), WGS84 only
at the output edge.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("hotspots")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
