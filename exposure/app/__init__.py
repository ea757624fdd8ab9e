"""The faces and composition roots: the command line, the portal, doctor, the demo, process tuning.

The only part of `exposure/` that may import `targets/` and `reports/` (DESIGN.md, "Layout").
"""
