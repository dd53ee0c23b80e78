"""Run configuration: a YAML file validated by pydantic; unknown keys are rejected.

Contract: ``load_config(path)`` returns a frozen ``Config`` or raises ``ConfigError`` with one
line naming the offending key and the fix. Relative paths inside the file (``data.path``,
``data.dataset``, ``prompt``) are resolved against the config file's folder.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from optimizer.errors import ConfigError


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DataConfig(_Section):
    """Where the labeled examples come from.

    Either ``path``: a folder with ``train/dev/test/regression.jsonl`` in the project format, or
    ``dataset``: one CSV/JSONL file (all rows form the split being evaluated), with column and
    label mapping.
    """

    path: str | None = None
    dataset: str | None = None
    input_col: str = "payload"
    label_col: str = "label"
    id_col: str | None = None
    label_map: dict[str, str] = Field(default_factory=dict)
    max_input_chars: int = Field(default=8192, ge=64)


class ModelRole(_Section):
    model: str = "local/reference"
    temperature: float = Field(default=0.0, ge=0.0, le=2.0)
    max_tokens: int | None = Field(default=None, ge=1)
    api_base: str | None = None
    api_key_env: str | None = None


class ModelsConfig(_Section):
    task: ModelRole = ModelRole()
    mutation: ModelRole = ModelRole(temperature=0.7)
    verifier: ModelRole = ModelRole()
    adversary: ModelRole = ModelRole(temperature=0.7)


class PriceOverride(_Section):
    input_per_mtok: float = Field(ge=0.0)
    output_per_mtok: float = Field(ge=0.0)


class LLMConfig(_Section):
    concurrency: int = Field(default=16, ge=1, le=1024)
    timeout_s: float = Field(default=60.0, gt=0)
    max_retries: int = Field(default=4, ge=0, le=20)
    cache: bool = True
    simulated_latency_s: float = Field(default=0.0, ge=0.0)
    transport: Literal["auto", "litellm", "direct"] = "auto"
    prices: dict[str, PriceOverride] = Field(default_factory=dict)


class BudgetConfig(_Section):
    max_calls: int | None = Field(default=None, ge=1)
    max_tokens: int | None = Field(default=None, ge=1)
    max_usd: float | None = Field(default=None, gt=0)
    max_wall_s: float | None = Field(default=None, gt=0)


class EvolutionConfig(_Section):
    """The evolutionary search (see docs/engine.md)."""

    population: int = Field(default=8, ge=2, le=500)
    generations: int = Field(default=10, ge=0, le=100_000)
    minibatch: int = Field(default=16, ge=1, le=1000)
    selection: Literal["tournament", "pareto"] = "tournament"
    acceptance: Literal["strict", "non_strict"] = "strict"
    fitness: Literal["accuracy", "macro_f1"] = "accuracy"
    operators: dict[str, float] = Field(
        default_factory=lambda: {
            "reflective": 4.0,
            "first_order": 1.0,
            "zero_order": 0.5,
            "eda": 0.5,
            "eda_rank_index": 0.5,
            "lineage": 0.5,
            "zero_order_hyper": 0.5,
            "first_order_hyper": 0.5,
            "lamarckian": 0.5,
            "crossover": 0.25,
            "context_shuffle": 0.25,
        }
    )
    max_failures: int = Field(default=8, ge=1, le=100)
    max_prompt_chars: int = Field(default=4000, ge=100)
    dev_limit: int | None = Field(default=None, ge=1)
    top_k: int = Field(default=3, ge=1, le=50)
    patience: int | None = Field(default=None, ge=1)
    target_score: float | None = Field(default=None, gt=0, le=1)


class EvalConfig(_Section):
    split: Literal["train", "dev", "test", "regression"] = "dev"
    bootstrap: int = Field(default=1000, ge=100, le=100_000)
    max_examples: int | None = Field(default=None, ge=1)


FITNESS_METRICS = (
    "accuracy", "macro_f1", "cost_weighted", "attack_recall", "benign_fpr", "robustness",
    "injection",
)


class CostConfig(_Section):
    """Costs of the cost-weighted score (a missed attack costs more than a false alarm)."""

    missed_attack: float = Field(default=5.0, ge=0.0)
    false_alarm: float = Field(default=1.0, ge=0.0)
    wrong_family: float = Field(default=0.5, ge=0.0)


class FitnessConfig(_Section):
    """Weighted fitness (see docs/validation.md). Empty ``weights`` = ``evolution.fitness``.

    Keys of ``weights``: accuracy, macro_f1, cost_weighted, attack_recall, benign_fpr (scored as
    1 - rate), robustness (needs ``validation.adversary``), injection (1 - flip rate; needs
    ``validation.injection``). Fitness = sum(w * score) / sum(w).
    """

    weights: dict[str, float] = Field(default_factory=dict)
    costs: CostConfig = CostConfig()

    @field_validator("weights")
    @classmethod
    def _known_metrics(cls, v: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(v) - set(FITNESS_METRICS))
        if unknown:
            raise ValueError(f"unknown fitness metric(s) {unknown}; use {list(FITNESS_METRICS)}")
        if any(w < 0 for w in v.values()) or (v and sum(v.values()) <= 0):
            raise ValueError("fitness weights must be >= 0 with a positive sum")
        return v


class VerifierStage(_Section):
    """classify -> verify: a second model/prompt re-reads each answer, may overturn it."""

    enabled: bool = False
    prompt: str | None = None  # file (relative to the config) or literal text; None = built-in
    feed_mutation: bool = True  # verifier rationales on the parent's failures
    optimize: bool = False  # evolve the verifier prompt (the classifier prompt stays fixed)


class AdversaryStage(_Section):
    """Evasive variants of correctly detected attacks (transforms + model rewrites)."""

    enabled: bool = False
    transforms: list[str] | None = None  # None = all suited transforms
    variants_per_example: int = Field(default=3, ge=1, le=20)
    model_rewrites: int = Field(default=1, ge=0, le=10)
    max_examples: int = Field(default=80, ge=1)  # dev attacks used for robustness in fitness
    augment_minibatch: bool = True  # screen children on the minibatch plus its variants
    max_failures: int = Field(default=4, ge=0, le=100)  # evasions fed to reflective mutation


class InjectionStage(_Section):
    """Steering payloads (answer-benign instructions, fake delimiters, role-play, quotes)."""

    enabled: bool = False
    kinds: list[str] | None = None  # None = the whole suite
    max_examples: int = Field(default=40, ge=1)


class ValidationConfig(_Section):
    verifier: VerifierStage = VerifierStage()
    adversary: AdversaryStage = AdversaryStage()
    injection: InjectionStage = InjectionStage()

    @property
    def any_enabled(self) -> bool:
        return self.verifier.enabled or self.adversary.enabled or self.injection.enabled


class GateConfig(_Section):
    """The promotion gate of ``breed check`` / ``breed promote`` (see docs/cicd.md).

    A candidate passes when every check passes: held-out (test) accuracy gain over the baseline
    whose paired-bootstrap 95 % lower bound exceeds ``min_gain``; at most
    ``max_critical_regressions`` newly failing critical regression cases and at most
    ``max_regressions`` other newly failing cases (regression + test splits); robustness not
    worse than the baseline by more than ``robustness_tolerance`` (skipped when no robustness
    metric is available); label-distribution drift (Jensen-Shannon, base 2) at most
    ``max_drift``; prompt length at most ``max_prompt_chars``; no run of ``copy_chars`` or more
    characters copied from a training payload.
    """

    min_gain: float = Field(default=0.0, ge=-1.0, le=1.0)
    max_critical_regressions: int = Field(default=0, ge=0)
    max_regressions: int = Field(default=5, ge=0)
    robustness_tolerance: float = Field(default=0.0, ge=0.0, le=1.0)
    max_drift: float = Field(default=0.2, ge=0.0, le=1.0)
    max_prompt_chars: int = Field(default=4000, ge=1)
    copy_chars: int = Field(default=40, ge=8)
    bootstrap: int = Field(default=2000, ge=100, le=100_000)


class Config(_Section):
    """The whole configuration file."""

    task: Literal["payload-classification"] = "payload-classification"
    seed: int = 0
    prompt: str | None = None
    data: DataConfig = DataConfig()
    store: str = "sqlite:///breed.db"
    models: ModelsConfig = ModelsConfig()
    llm: LLMConfig = LLMConfig()
    budget: BudgetConfig = BudgetConfig()
    eval: EvalConfig = EvalConfig()
    evolution: EvolutionConfig = EvolutionConfig()
    fitness: FitnessConfig = FitnessConfig()
    validation: ValidationConfig = ValidationConfig()
    gate: GateConfig = GateConfig()
    base_dir: str = Field(default=".", exclude=True)

    @field_validator("store")
    @classmethod
    def _store_url(cls, v: str) -> str:
        return v if "://" in v else f"sqlite:///{v}"

    @model_validator(mode="after")
    def _stages_for_weights(self) -> Config:
        w = self.fitness.weights
        if w.get("robustness", 0) > 0 and not self.validation.adversary.enabled:
            raise ValueError("fitness weight 'robustness' needs validation.adversary.enabled: true")
        if w.get("injection", 0) > 0 and not self.validation.injection.enabled:
            raise ValueError("fitness weight 'injection' needs validation.injection.enabled: true")
        if self.validation.verifier.optimize and not self.validation.verifier.enabled:
            raise ValueError("validation.verifier.optimize needs validation.verifier.enabled: true")
        return self

    def resolve(self, rel: str) -> Path:
        """Resolve a path from the config file relative to the config file's folder."""
        p = Path(rel).expanduser()
        return p if p.is_absolute() else (Path(self.base_dir) / p)

    def public_dict(self) -> dict[str, Any]:
        """The resolved config as stored with a run (no machine-local fields)."""
        return self.model_dump(mode="json", exclude={"base_dir"})


def _describe(err: ValidationError) -> str:
    first = err.errors()[0]
    loc = ".".join(str(p) for p in first["loc"]) or "(top level)"
    if first["type"] == "extra_forbidden":
        return (
            f"unknown config key '{loc}'; remove it or check its spelling "
            "(see configs/quickstart.yaml)"
        )
    return f"invalid config value at '{loc}': {first['msg']}; fix it in the config file"


def parse_config(raw: dict[str, Any], base_dir: str | Path = ".") -> Config:
    """Validate a mapping (already parsed from YAML) into a ``Config``."""
    if not isinstance(raw, dict):
        raise ConfigError("config file must be a YAML mapping of keys to values")
    try:
        return Config(**raw, base_dir=str(base_dir))
    except ValidationError as err:
        raise ConfigError(_describe(err)) from None


def load_config(path: str | Path) -> Config:
    """Read and validate a YAML config file."""
    import yaml

    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"config file {p} not found; pass a path such as configs/quickstart.yaml")
    try:
        raw = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
    except UnicodeDecodeError:
        raise ConfigError(f"config file {p} is not UTF-8 text; save it as UTF-8") from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise ConfigError(f"config file {p} is not valid YAML{where}; fix the syntax") from None
    if "base_dir" in raw:
        raise ConfigError("unknown config key 'base_dir'; remove it")
    return parse_config(raw, base_dir=p.resolve().parent)
