"""Persistence: engine set-up, migrations, the findings lifecycle and the single writer."""
