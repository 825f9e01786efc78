"""One module per scenario: ``SIZES`` ({"smoke": {...}, "full": {...}}) and ``run(**size)``."""
