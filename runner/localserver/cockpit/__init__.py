"""The cockpit: a page at / of the local server that shows its task instances live, one
instance's statuses, a submit form generated from the published catalog, and a chart of
durations and throughput; its files in static/, its data under /local/api/cockpit/."""
