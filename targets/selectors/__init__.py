"""Reads of the targets engine: what the pages, the brief, the API and the jobs show.

- `metrics`: a metric evaluated at the end of a quarter (the counting rules applied to data);
- `dashboard`: the board behind the city, district and direction pages (from snapshots);
- `brief`: the quarterly brief, read from the same board;
- `explanation`: why a target stands where it does (contributions, pipelines, who moved).
"""
