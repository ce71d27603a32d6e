"""Containers: the interface the worker sees, and its one implementation on Docker.

`interface` is what the worker may import; `docker_engine` is the only module
that imports the docker SDK, and only the composition root builds it.
"""
