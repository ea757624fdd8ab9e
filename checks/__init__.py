"""Checks: one package per family. The engine finds them through the `exposure.checks` entry points."""
