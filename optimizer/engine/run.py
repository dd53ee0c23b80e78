"""Running, resuming and finishing an evolution run (``breed run`` / ``breed resume``).

Contract:
- ``Runner.start()`` creates the run, scores the initial population (generation 0) and loops;
  ``Runner.resume(run_id)`` rebuilds the state from the store and continues at the next
  generation. Both end in ``finish()``: the run gets its final status
  (``completed``, ``interrupted``, ``budget_exhausted``, ``failed``) and, when completed, the
  best ``top_k`` candidates by dev score and the seed prompt are scored on ``test`` with a
  paired test (champion vs seed).
- With ``validation.verifier.optimize`` the run evolves the verifier prompt: the seed prompt
  is the fixed classifier and candidates are scored on post-verifier labels
  (``optimizer.validation.pipeline.PipelineScorer``); see docs/validation.md.
- ``request_stop()`` (called from a signal handler) cancels the generation in flight; nothing
  of it is committed and the run ends ``interrupted``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from optimizer.engine.final import score_finalists
from optimizer.engine.init import initial_population, restore_state
from optimizer.engine.loop import run_generation
from optimizer.engine.persist import run_totals
from optimizer.engine.population import LoopState
from optimizer.engine.propose import ProposalEnv
from optimizer.engine.scoring import Scorer
from optimizer.engine.summary import Progress, RunSummary
from optimizer.errors import BudgetExceeded
from optimizer.operators import load_seed_list

if TYPE_CHECKING:
    from optimizer.config import Config
    from optimizer.llm.gateway import Gateway
    from optimizer.store import Store
    from optimizer.tasks.base import Task
    from optimizer.wiring import Splits

log = logging.getLogger(__name__)


class Runner:
    def __init__(
        self,
        config: Config,
        task: Task,
        splits: Splits,
        store: Store,
        gateway: Gateway,
        *,
        on_progress: Callable[[Progress], None] | None = None,
        handle_signals: bool = False,
        extra_mutation_prompts: tuple[str, ...] = (),
    ) -> None:
        self.config, self.task, self.splits = config, task, splits
        self.extra_mutation_prompts = tuple(extra_mutation_prompts)  # e.g. review comments
        self.handle_signals = handle_signals
        self.store, self.gateway = store, gateway
        self.on_progress = on_progress
        self._stop = asyncio.Event()
        self._stop_reason = "interrupted"
        self._counts = {"proposals": 0, "accepted": 0}

    def request_stop(self, reason: str = "interrupted") -> None:
        self._stop_reason = reason
        self._stop.set()

    def _install_signals(self) -> None:
        """SIGINT/SIGTERM request a clean stop (main thread, running loop only)."""
        if not self.handle_signals:
            return
        import signal

        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self.request_stop, sig.name)

    def _env(self, run_id: str, classifier_prompt: str = "") -> ProposalEnv:
        from optimizer.validation.engine import Validator
        from optimizer.validation.pipeline import PipelineScorer

        cfg = self.config
        scorer: Any = Scorer(self.gateway, self.task, cfg.models.task)
        if cfg.validation.verifier.optimize:  # evolve the verifier behind a fixed classifier
            scorer = PipelineScorer(self.gateway, self.task, cfg.models.task,
                                    cfg.models.verifier, classifier_prompt)
        return ProposalEnv(
            config=self.config,
            task=self.task,
            gateway=self.gateway,
            scorer=scorer,
            dev=self.splits.dev,
            thinking_styles=load_seed_list("thinking_styles"),
            mutation_prompts=load_seed_list("mutation_prompts") + self.extra_mutation_prompts,
            run_id=run_id,
            validator=Validator.build(self.config, self.task, self.gateway, scorer,
                                      self.splits.dev),
        )

    async def start(self, seed_prompt: str, name: str | None = None) -> RunSummary:
        run_id = self.store.create_run(
            kind="run",
            name=name or "run",
            config={"config": self.config.public_dict(), "base_dir": self.config.base_dir,
                    "seed_prompt": seed_prompt,
                    **({"extra_mutation_prompts": list(self.extra_mutation_prompts)}
                       if self.extra_mutation_prompts else {})},
            seed=self.config.seed,
            task=self.task.name,
        )
        env = self._env(run_id, seed_prompt)
        self._install_signals()
        state = await self._generation_zero(env, seed_prompt)
        if isinstance(state, RunSummary):
            return state
        return await self._loop(env, state)

    async def _generation_zero(self, env: ProposalEnv, seed_prompt: str) -> LoopState | RunSummary:
        """Score and commit the initial population; a summary when it was stopped first."""
        t0 = time.monotonic()
        try:
            state = await self._guard(initial_population(env, self.store,
                                                         self._evolved_seed(seed_prompt)))
        except BudgetExceeded:
            return self._finish_early(env, env.run_id, "budget_exhausted")
        if state is None:
            return self._finish_early(env, env.run_id, self._stop_reason)
        state.elapsed_s = time.monotonic() - t0
        return state

    def _evolved_seed(self, seed_prompt: str) -> str:
        """The prompt the run evolves: the seed prompt, or the verifier prompt when
        ``validation.verifier.optimize`` (then ``seed_prompt`` is the fixed classifier)."""
        if not self.config.validation.verifier.optimize:
            return seed_prompt
        from optimizer.validation.pipeline import verifier_prompt

        return verifier_prompt(self.config)

    async def resume(self, run_id: str, seed_prompt: str) -> RunSummary:
        env = self._env(run_id, seed_prompt)
        self._install_signals()
        t0 = time.monotonic()
        state = restore_state(env, self.store)
        if state is None:  # died while scoring generation 0
            state = await self._generation_zero(env, seed_prompt)
            if isinstance(state, RunSummary):
                return state
        self.store.update_run(run_id, status="running")
        return await self._loop(env, state, started=t0 - state.elapsed_s)

    async def _guard(self, coro: Any) -> Any:
        """Await ``coro`` unless a stop is requested first (then cancel it, return None)."""
        work = asyncio.ensure_future(coro)
        stop = asyncio.ensure_future(self._stop.wait())
        done, _ = await asyncio.wait({work, stop}, return_when=asyncio.FIRST_COMPLETED)
        if work in done:
            stop.cancel()
            return work.result()
        work.cancel()
        try:
            await work
        except (asyncio.CancelledError, BudgetExceeded):
            pass
        return None

    def _stop_condition(self, state: LoopState, started: float) -> str | None:
        ev, budget = self.config.evolution, self.config.budget
        if state.generation >= ev.generations:
            return "max_generations"
        if ev.target_score is not None and state.best.fitness >= ev.target_score:
            return "target_score"
        if ev.patience is not None and state.generation - state.best_generation >= ev.patience:
            return "no_improvement"
        if budget.max_wall_s is not None and time.monotonic() - started >= budget.max_wall_s:
            return "max_wall_s"
        return None

    async def _loop(
        self, env: ProposalEnv, state: LoopState, started: float | None = None
    ) -> RunSummary:
        started = time.monotonic() - state.elapsed_s if started is None else started
        status, reason = "completed", ""
        while True:
            cond = self._stop_condition(state, started)
            if cond:
                reason = cond
                break
            try:
                outcome = await self._guard(run_generation(env, self.store, state,
                                                           self.splits.train))
            except BudgetExceeded as err:
                status, reason = "budget_exhausted", f"max_{err.kind}"
                break
            if outcome is None:
                status, reason = "interrupted", self._stop_reason
                break
            state.elapsed_s = time.monotonic() - started
            self._counts["proposals"] += outcome.proposals
            self._counts["accepted"] += outcome.accepted
            self._emit(env, state)
        state.elapsed_s = time.monotonic() - started
        return await self.finish(env, state, status, reason)

    def _emit(self, env: ProposalEnv, state: LoopState) -> None:
        if self.on_progress is None:
            return
        t = run_totals(env, state, state.generation)
        self.on_progress(
            Progress(
                run_id=env.run_id,
                generation=state.generation,
                max_generations=self.config.evolution.generations,
                best_fitness=state.best.fitness,
                best_candidate=state.best.id,
                proposals=self._counts["proposals"],
                accepted=self._counts["accepted"],
                model_calls=t["model_calls"],
                cache_hits=t["cache_hits"],
                tokens=t["tokens"],
                cost_usd=t["cost_usd"],
                elapsed_s=state.elapsed_s,
            )
        )

    def _finish_early(self, env: ProposalEnv, run_id: str, status: str) -> RunSummary:
        s = self.gateway.stats()
        totals = {"model_calls": s.calls, "cache_hits": s.cache_hits, "tokens": s.total_tokens,
                  "cost_usd": s.cost_usd}
        self.store.finish_run(run_id, status, totals)
        return RunSummary(run_id=run_id, status=status, stop_reason=status, generations=0,
                          model_calls=s.calls, cache_hits=s.cache_hits, tokens=s.total_tokens,
                          cost_usd=s.cost_usd)

    async def finish(
        self, env: ProposalEnv, state: LoopState, status: str, reason: str
    ) -> RunSummary:
        summary = RunSummary(
            run_id=env.run_id,
            status=status,
            stop_reason=reason,
            generations=state.generation,
            best_candidate=state.best.id,
            best_dev_score=state.best.fitness,
            proposals=self._counts["proposals"],
            accepted=self._counts["accepted"],
        )
        if status == "completed" and self.splits.test:
            try:
                await score_finalists(env, self.store, self.splits.test, summary)
            except BudgetExceeded:
                summary.status, summary.stop_reason = "budget_exhausted", "final test scoring"
        totals = run_totals(env, state, state.generation)
        summary.model_calls, summary.cache_hits = totals["model_calls"], totals["cache_hits"]
        summary.tokens, summary.cost_usd = totals["tokens"], totals["cost_usd"]
        summary.elapsed_s = state.elapsed_s
        totals["summary"] = summary.as_dict()
        self.store.finish_run(env.run_id, summary.status, totals)
        return summary
