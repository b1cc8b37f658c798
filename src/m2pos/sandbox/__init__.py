"""Emulators of the systems m2pos talks to, one package per system.

They are used by the tests, the demo and the benchmarks, and by merchants who want to try
m2pos before connecting a real store.
"""
