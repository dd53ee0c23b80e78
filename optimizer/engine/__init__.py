"""The evolution engine: Promptbreeder operators + GEPA-style reflective mutation, selection,
minibatch acceptance, lineage, budgets and crash-safe resume (see docs/engine.md)."""
