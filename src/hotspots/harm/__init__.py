"""Harm weights: versioned crime-harm tables (package data) and weighting of incidents.

Default weights are Cambridge Crime Harm Index days (Sherman, Neyroud & Neyroud 2016).
"""

from hotspots.harm._apply import UnknownOffence, apply_harm, harm_weights
from hotspots.harm._tables import DEFAULT_HARM_TABLE, HARM_TABLES, HarmTable, load_harm_table
from hotspots.harm._usage import Weighting, weigh_used

__all__ = [
    "DEFAULT_HARM_TABLE",
    "HARM_TABLES",
    "HarmTable",
    "UnknownOffence",
    "Weighting",
    "apply_harm",
    "harm_weights",
    "load_harm_table",
    "weigh_used",
]
