"""Primitives with no workflow knowledge: git, package indexes, build environments,
hashing, files.

Steps, ``release status``, ``release ci`` and ``release build`` import them alike.
A module here never imports a step, the executor or the planner, and decides
nothing about a release: it answers a question about the world or changes one
thing in it.
"""
