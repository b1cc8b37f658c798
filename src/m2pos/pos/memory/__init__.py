"""The built-in ``memory`` POS: for tests and for trying m2pos without a POS."""

from m2pos.pos.memory._adapter import MemoryPos

__all__ = ["MemoryPos"]
