"""The clean stage measured: the extraction benchmark, its referee and threshold fitting."""
