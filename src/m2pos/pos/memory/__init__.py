"""The built-in ``memory`` POS: for tests and for trying m2pos without a POS."""

from m2pos.pos.kind import DemoPos, PosKind
from m2pos.pos.memory._adapter import MemoryPos

KIND = PosKind(
    kind="memory",
    title="Memory POS (built in, for tests)",
    open=MemoryPos.from_settings,
    demo=lambda stack, workdir: DemoPos({"kind": "memory"}, "memory POS"),
)

__all__ = ["KIND", "MemoryPos"]
