"""Scoring prompts: metrics, bootstrap intervals, paired tests, and the evaluation runner."""
