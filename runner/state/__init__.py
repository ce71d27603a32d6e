"""The runner's state on disk (the only sqlite3 importer of the runner): one SQLite file
per runner id, holding the status outbox and the journal of taken tasks."""
