"""The run machinery: the orchestrator, its results, limits, metering, preflight and progress protocol."""
