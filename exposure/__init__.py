"""exposure: a passive external exposure scanner for Dutch business-association Meldpunten."""

__version__ = "0.1.0"
