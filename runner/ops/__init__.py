"""Operations: what lets people and machines watch a running runner.

Prometheus metrics fed as the worker's Observer (metrics.py), the health, readiness and
status answers (probes.py), the HTTP listener that serves them (http.py, on waitress), and
the log line formats (logs.py). The only importer of prometheus_client and, for this
listener, of waitress; the composition root (runner.app) wires it in.
"""
