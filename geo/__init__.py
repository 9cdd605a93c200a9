"""Spatial core of Zhengtu: database, embedded PostGIS, coordinate systems, admin areas.

Nothing here imports a web framework, so every other package (and the CLI) can use it.
"""
