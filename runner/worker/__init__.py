"""The worker: the poll loop, the executor (one task, one container, one terminal status),
status delivery and the cancellation watch. It sees the engine, the platform, the schema
checks and the state store only through small interfaces, and imports none of their
libraries."""
