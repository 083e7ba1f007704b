"""Drift and performance-decay monitoring of the deployed model (numpy, scipy and pandas only).

- `profile`: the reference profile of the training split (stage `profile` -> models/reference_profile.npz)
- `sources`: current data: the service's prediction log (JSON Lines) or CSV/Parquet files, local or URLs
- `drift`, `stats`: per-feature tests with Benjamini-Hochberg correction and an effect-size gate
- `decay`: metrics on labelled recent predictions against the test-set metrics in models/metadata.json
- `report`: summary.json, summary.md and a self-contained report.html
- `window`: the alert window, the recent runs' verdicts: alert when N of the last M drifted or decayed
- `cli`: `run_monitor()` and the `monitor` command (exit 0 ok, 1 alert, 2 error)
"""
