"""Settings the caching guide's ``weighted.py`` reads: edit a value and the steps that read it run again."""

WEIGHTS = {"old": 1.0, "recent": 2.0}
