"""A release of several packages of one repository (docs/monorepo.md).

Each selected package gets its own plan, made from its own facts exactly as a project of
its own would; the package composes them into one release. Its modules, each with one
job (import from the one that owns a name; this module re-exports nothing):

- ``discovery``: is a directory the root of several packages, which, what each inherits;
- ``selection``: which packages a release takes (``--package``, ``--all``, the default);
- ``gather``: every package's facts, read with the repository's git reads shared;
- ``planning``: the release of the selected packages and every problem with it;
- ``pins``: the dependents' requirements on the packages released (update-dependents);
- ``lockfile``: the root uv.lock's edits;
- ``compose``: the packages' plans composed into the release's steps (pure);
- ``commits``: one release commit for all, or one per package (consolidate-commits);
- ``plan``: the release's plan type, its JSON and journal forms.

The preview of a single project imports ``discovery`` and ``selection`` only.
"""
