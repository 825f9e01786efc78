"""Benchmarks of the portal against the VOS3000 emulator on loopback (docs/PERFORMANCE.md).

``python -m bench`` runs every scenario at full size, ``python -m bench --smoke`` at a tiny
size, ``python -m bench balance calls`` only the named ones. Each scenario runs in its own
process on its own throwaway database, measures the portal and a reference in the same run,
and reports their ratio. Nothing here imports Django at module level: the runner sets the
environment up first (bench.env).
"""
