"""The stage names, in order: part of the interface (``--until``), importable at no cost."""

STAGES = ("check", "prepare", "tag", "build", "verify", "push", "publish", "announce", "post")
