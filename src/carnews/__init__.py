"""carnews: CAR-T and cell-therapy news for people with autoimmune rheumatic disease."""

__version__ = "0.1.0"
