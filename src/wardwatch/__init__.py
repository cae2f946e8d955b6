"""wardwatch: open, on-premises security for connected medical devices."""

__version__ = "0.1.0"
