"""Layered validation: verifier stage, adversarial evasion, injection safety, security metrics.

Modules: ``transforms`` (deterministic evasion transforms with inverse checks), ``adversary``
(variants and robustness), ``injection`` (steering payloads, label flips), ``pipeline``
(classify -> verify -> adversary, per-candidate report), ``security`` (cost-weighted score,
weighted fitness, Pareto over families), ``engine`` (the hooks the evolution engine calls).
See docs/validation.md.
"""
