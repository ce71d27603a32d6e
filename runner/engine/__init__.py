"""Containers: the interface the worker sees, its implementation on Docker, and the warm pool.

`interface` is what the worker may import; `docker_engine` is the only module
that imports the docker SDK (`stream` and `attach` hold its attach socket's
logic, without the SDK); `pool` keeps task containers started ahead of their
tasks in front of it, and `remover` removes containers off the tasks' path.
Only the composition root builds them.
"""
