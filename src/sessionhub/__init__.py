"""sessionhub: one session core behind five vendor session APIs."""

__version__ = "0.1.0"
