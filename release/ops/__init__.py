"""Primitives with no workflow knowledge: git, package indexes, build environments,
hashing, files.

Steps, ``release status``, ``release ci`` and ``release build`` import them alike.
A module here never imports a step, the executor or the planner, and decides
nothing about a release: it answers a question about the world or changes one
thing in it.
"""

#: What a probe says of one item (a tag on a remote, a file on an index or a release):
#: there with the expected content, not there, there with other content, or (a
#: release asset) an upload that never completed. The steps decide by these, and
#: ``release status`` shows them.
PRESENT, MISSING, CONFLICTING, BROKEN = "present", "missing", "conflicting", "broken"
DRAFT = "draft"  # a forge release that exists but is not published (yet)
