"""``breed tune``: optuna over the optimizer's own settings.

Each trial is a complete evolution run (stored like any run, named ``tune-<k>``) with the
trial's settings and the same budget of model calls; the objective is the champion's **dev**
score (``test`` stays held out). The sampler is optuna's TPE seeded by the config's seed, so a
tuning session is reproducible. The search space covers the settings users ask about most:
population, minibatch size, selection, acceptance and the weight of reflective mutation.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from optimizer.config import Config, parse_config

if TYPE_CHECKING:
    import optuna

log = logging.getLogger(__name__)


@dataclass
class TuneResult:
    best_value: float
    best_params: dict[str, Any]
    best_run_id: str
    trials: list[dict[str, Any]] = field(default_factory=list)
    best_config: dict[str, Any] = field(default_factory=dict)


def suggest(trial: optuna.Trial, base: Config) -> dict[str, Any]:
    """The trial's settings as a config mapping (the base config with the suggestions)."""
    raw = base.public_dict()
    ev = dict(raw["evolution"])
    ev["population"] = trial.suggest_int("population", 4, 12, step=2)
    ev["minibatch"] = trial.suggest_int("minibatch", 8, 32, step=8)
    ev["selection"] = trial.suggest_categorical("selection", ["tournament", "pareto"])
    ev["acceptance"] = trial.suggest_categorical("acceptance", ["strict", "non_strict"])
    ops = dict(ev["operators"])
    ops["reflective"] = trial.suggest_float("reflective_weight", 0.5, 8.0, log=True)
    ev["operators"] = ops
    raw["evolution"] = ev
    return raw


def tune(
    base: Config,
    *,
    trials: int,
    max_calls: int,
    db_url: str | None = None,
    on_trial: Any = None,
) -> TuneResult:
    """Run ``trials`` evolution runs chosen by TPE; return the best settings."""
    import optuna

    from optimizer.app import start_run

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    sampler = optuna.samplers.TPESampler(seed=base.seed, n_startup_trials=min(4, trials))
    study = optuna.create_study(direction="maximize", sampler=sampler)
    records: list[dict[str, Any]] = []

    def objective(trial: optuna.Trial) -> float:
        raw = suggest(trial, base)
        raw["budget"] = {**raw["budget"], "max_calls": max_calls}
        raw["evolution"]["generations"] = max(raw["evolution"]["generations"], 1000)
        config = parse_config(raw, base_dir=base.base_dir)
        summary = start_run(config, db_url=db_url, name=f"tune-{trial.number}")
        value = float(summary.best_dev_score or 0.0)
        trial.set_user_attr("run_id", summary.run_id)
        rec = {"trial": trial.number, "value": value, "run_id": summary.run_id,
               "calls": summary.model_calls, "generations": summary.generations,
               **trial.params}
        records.append(rec)
        if on_trial is not None:
            on_trial(rec)
        return value

    study.optimize(objective, n_trials=trials)
    best = study.best_trial
    best_config = suggest(optuna.trial.FixedTrial(best.params), base)
    for section, key in (("data", "path"), ("data", "dataset")):
        if best_config[section].get(key):
            best_config[section][key] = str(base.resolve(best_config[section][key]).resolve())
    if best_config.get("prompt") and base.resolve(best_config["prompt"]).is_file():
        best_config["prompt"] = str(base.resolve(best_config["prompt"]).resolve())
    return TuneResult(
        best_value=float(best.value or 0.0),
        best_params=dict(best.params),
        best_run_id=str(best.user_attrs["run_id"]),
        trials=records,
        best_config=best_config,
    )
