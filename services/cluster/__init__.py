"""The cluster stage. `core` and `text` are imported from their compiled build when there is a
current one (`compiled.build_for`): `COMPILED` says which ran."""

from services.cluster.compiled import build_for

_build = build_for()
if _build is not None:
    __path__.insert(0, str(_build))  # searched first: the build's core and text shadow the .py
COMPILED = _build is not None
