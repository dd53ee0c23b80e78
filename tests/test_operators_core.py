"""Every mutation operator against the offline reference model: valid, deterministic children."""

from __future__ import annotations

import asyncio
import json
import random
import re
from dataclasses import replace

import pytest

from optimizer.errors import OperatorError
from optimizer.llm.reference import ReferenceModel
from optimizer.operators import OPERATORS, MutationContext, load_seed_list, make_operator
from optimizer.tasks.payloads import PAYLOAD_TASK
from optimizer.units import FailureCase, Offspring, Shot, Unit, json_line

MODEL = ReferenceModel()
CUES = ("INSTRUCTION MUTANT:", "MUTATION PROMPT MUTANT:")
NO_CALL = {"crossover", "context_shuffle"}

BASE_PROMPT = (
    "Classify the payload as benign or as the attack family it belongs to.\n"
    "Ignore case when matching indicators (case-insensitive).\n"
    'sqli (SQL injection): indicators "\' or 1=1", "union select"\n'
    'xss (cross-site scripting): indicators "<script"\n'
    "Be careful and thorough, and think about it.\n"
    "If nothing matches, answer benign."
)
XSS_CMDI = (
    "Classify the payload.\n"
    'xss (cross-site scripting): indicators "<script", "onerror=", "javascript:"\n'
    'cmdi (OS command injection): indicators "; cat ", "| id", "$(whoami)"\n'
    "If nothing matches, answer benign."
)
PARENT = Unit(
    id="u-parent",
    task_prompt=BASE_PROMPT,
    mutation_prompt="Add the specific keywords and characters that indicate each label.",
    context=(Shot("<b>hello</b>", "benign"),),
    fitness=0.5,
    generation=3,
    history=(
        "Classify the payload.\n"
        'sqli (SQL injection): indicators "\' or 1=1", "sleep("\n'
        "If nothing matches, answer benign.",
        "Classify the payload as benign or as the attack family it belongs to.\n"
        'sqli (SQL injection): indicators "\' or 1=1", "union select"\n'
        'cmdi (OS command injection): indicators "; cat "\n'
        "If nothing matches, answer benign.",
    ),
)
POPULATION = (
    PARENT,
    Unit(
        "u-a",
        "Classify the HTTP payload into exactly one label.\n"
        'sqli (SQL injection): indicators "union select", "\' or 1=1", "sleep("\n'
        'xss (cross-site scripting): indicators "<script", "onerror="\n'
        "If nothing matches, answer benign.",
        "Rephrase it.",
        fitness=0.7,
    ),
    Unit("u-b", XSS_CMDI, "Simplify it.", fitness=0.6),
    Unit(
        "u-c",
        "Decide which attack family, if any, the payload belongs to.\n"
        'path_traversal (path traversal): indicators "../", "/etc/passwd"\n'
        "If nothing matches, answer benign.",
        "Shorten it.",
        fitness=0.2,
    ),
    Unit("u-d", XSS_CMDI[:-1] + "!", "Simplify it.", fitness=0.1),  # near-duplicate of u-b
)
FAILURES = (
    FailureCase("%27%20OR%201%3D1--", "sqli", "benign", "URL-encoded tautology"),
    FailureCase("<img src=x onerror=alert(1)>", "xss", "benign"),
    FailureCase("; cat /etc/passwd", "cmdi", "benign", None),
    FailureCase("O'Brien", "benign", "sqli", "an apostrophe in a surname is not an attack"),
)
CORRECT = (
    Shot("1' UNION SELECT username, password FROM users--", "sqli"),
    Shot("<script>alert(document.cookie)</script>", "xss"),
    Shot("../../../../etc/passwd", "path_traversal"),
    Shot("search for red shoes", "benign"),
    Shot("| whoami", "cmdi"),
)


def make_llm(seed: int = 0, temperature: float = 0.0, log: list[str] | None = None):
    async def llm(text: str) -> str:
        if log is not None:
            log.append(text)
        return MODEL.respond(
            [{"role": "user", "content": text}], temperature=temperature, seed=seed
        )

    return llm


def make_ctx(seed: int = 0, log: list[str] | None = None, **overrides) -> MutationContext:
    fields = dict(
        llm=make_llm(seed, log=log),
        rng=random.Random(seed),
        problem_description=PAYLOAD_TASK.description,
        labels=PAYLOAD_TASK.labels,
        population=POPULATION,
        failures=FAILURES,
        correct=CORRECT,
        thinking_styles=load_seed_list("thinking_styles"),
        mutation_prompts=load_seed_list("mutation_prompts"),
    )
    fields.update(overrides)
    return MutationContext(**fields)


def propose(name: str, parent: Unit = PARENT, seed: int = 0, **overrides) -> Offspring:
    return asyncio.run(make_operator(name).propose(parent, make_ctx(seed, **overrides)))


@pytest.mark.parametrize("name", sorted(OPERATORS))
def test_every_operator_yields_a_valid_deterministic_child(name: str) -> None:
    child = propose(name, seed=7)
    assert isinstance(child, Offspring)
    assert child.operator == name
    assert child.task_prompt.strip()
    assert len(child.task_prompt) <= 4000
    assert (child.task_prompt, child.mutation_prompt, child.context) != (
        PARENT.task_prompt,
        PARENT.mutation_prompt,
        PARENT.context,
    )
    meta_prompts, raw = child.meta["meta_prompts"], child.meta["raw_outputs"]
    assert len(meta_prompts) == len(raw) == (0 if name in NO_CALL else 2 if "hyper" in name else 1)
    for prompt in meta_prompts:
        assert prompt.splitlines()[-1] in CUES
    json.dumps(dict(child.meta))  # the proposals table stores meta as JSON
    # same seed, fresh context -> the very same child, whatever the global random state
    random.seed(12345)
    assert propose(name, seed=7) == child


@pytest.mark.parametrize("name", sorted(set(OPERATORS) - NO_CALL))
def test_meta_prompts_follow_the_format_contract(name: str) -> None:
    log: list[str] = []
    child = propose(name, seed=1, log=log)
    assert tuple(log) == child.meta["meta_prompts"]
    header = re.compile(r"^[A-Z][A-Z ]+:", re.M)
    for prompt in log:
        # operator prose comes before the first header, the answer cue is the last line
        first_header = header.search(prompt)
        assert first_header is not None
        assert prompt.splitlines()[-1] in CUES
        assert "$" not in prompt.replace("$(whoami)", "")  # every placeholder was filled


def test_reflective_meta_prompt_shows_the_failures() -> None:
    log: list[str] = []
    child = propose("reflective", log=log)
    (prompt,) = log
    assert "FAILURE CASES:" in prompt and "MUTATION PROMPT:" in prompt
    for case in FAILURES:
        assert f"- input: {json_line(case.input)}" in prompt
        assert f"  expected: {case.expected}" in prompt
    assert "  rationale: URL-encoded tautology" in prompt
    assert "domain-specific facts" in prompt and "generalizable strategies" in prompt
    assert child.meta["n_failures"] == len(FAILURES)


def test_reflective_samples_at_most_max_failures_in_order() -> None:
    log: list[str] = []
    propose("reflective", seed=3, log=log, max_failures=2)
    shown = [c for c in FAILURES if json_line(c.input) in log[0]]
    assert len(shown) == 2
    positions = [log[0].index(json_line(c.input)) for c in shown]
    assert positions == sorted(positions)


def test_reflective_without_failures_is_rejected() -> None:
    with pytest.raises(OperatorError, match="failure cases"):
        propose("reflective", failures=())


def test_hypermutation_changes_the_mutation_prompt_and_its_effect() -> None:
    for name in ("zero_order_hyper", "first_order_hyper"):
        child = propose(name, seed=5)
        assert child.mutation_prompt.strip()
        assert child.mutation_prompt != PARENT.mutation_prompt
        # the second call applied the *new* mutation-prompt to the parent's instruction
        assert f"MUTATION PROMPT:\n{child.mutation_prompt}\n" in child.meta["meta_prompts"][1]
        assert f"INSTRUCTION:\n{PARENT.task_prompt}\n" in child.meta["meta_prompts"][1]
    # a different mutation-prompt makes the mutator do something different to the same parent
    hyper = propose("zero_order_hyper", seed=5)
    with_new = propose(
        "first_order", parent=replace(PARENT, mutation_prompt=hyper.mutation_prompt), seed=5
    )
    with_old = propose("first_order", seed=5)
    assert with_new.task_prompt == hyper.task_prompt
    assert with_new.task_prompt != with_old.task_prompt


def test_zero_order_hyper_uses_a_thinking_style_from_the_context() -> None:
    styles = ("Let's list the exact signature of each attack.", "Question every assumption.")
    drawn = set()
    for seed in range(6):
        log: list[str] = []
        try:
            child = propose("zero_order_hyper", seed=seed, log=log, thinking_styles=styles)
        except OperatorError:  # an unchanged child is a legitimate rejection here
            child = None
        (style,) = [s for s in styles if f"THINKING STYLE:\n{s}\n" in log[0]]
        drawn.add(style)
        if child is not None:
            assert child.meta["thinking_style"] == style
    assert drawn == set(styles)  # drawn with ctx.rng


def test_eda_lists_population_without_fitness_and_drops_near_duplicates() -> None:
    child = propose("eda", seed=2)
    (prompt,) = child.meta["meta_prompts"]
    listed = child.meta["listed_unit_ids"]
    # u-b and u-d differ by one character: only one of them is listed
    assert len({"u-b", "u-d"} & set(listed)) == 1
    assert len(listed) == 4
    assert "0.7" not in prompt and "SCORES:" not in prompt
    for k in range(1, len(listed) + 1):
        assert f"\n[{k}]\n" in prompt
    orders = {propose("eda", seed=s).meta["listed_unit_ids"] for s in range(8)}
    assert len(orders) > 1  # random order, driven by ctx.rng


def test_eda_rank_index_lists_ascending_fitness_under_descending_header() -> None:
    child = propose("eda_rank_index")
    (prompt,) = child.meta["meta_prompts"]
    # of the near-duplicates u-b (0.6) and u-d (0.1) the fitter stays; worst first, best last
    assert child.meta["listed_unit_ids"] == ("u-c", "u-parent", "u-b", "u-a")
    assert "descending order of score" in prompt
    assert "[5] is the best instruction. It resembles [4] more than it does [1]." in prompt
    assert prompt.split("SCORES:\n", 1)[1].startswith("1: 1\n2: 2\n3: 3\n4: 4\n")  # ranks
    assert prompt.index(POPULATION[3].task_prompt) < prompt.index(POPULATION[1].task_prompt)


def test_lineage_lists_history_then_the_current_prompt() -> None:
    child = propose("lineage")
    (prompt,) = child.meta["meta_prompts"]
    assert "GENOTYPES FOUND IN ASCENDING ORDER OF QUALITY" in prompt
    body = prompt.split("PROMPTS:\n", 1)[1]
    expected = [*PARENT.history, PARENT.task_prompt]
    positions = [body.index(f"]\n{text}\n") for text in expected]
    assert positions == sorted(positions)
    assert child.meta["history_len"] == 3
    assert "SCORES:\n1: 1\n2: 2\n3: 3\n" in prompt


def test_lamarckian_induces_from_correct_examples_only() -> None:
    child = propose("lamarckian", seed=4)
    (prompt,) = child.meta["meta_prompts"]
    assert "CORRECT EXAMPLES:" in prompt and "The instruction was:" in prompt
    assert PARENT.task_prompt not in prompt
    shown = [s for s in CORRECT if f"- input: {json_line(s.input)}\n  label: {s.label}" in prompt]
    assert len(shown) == child.meta["n_examples"] == 3
    with pytest.raises(OperatorError, match="correct examples"):
        propose("lamarckian", correct=())


def test_zero_order_ignores_the_parent_but_reads_the_problem() -> None:
    child = propose("zero_order")
    (prompt,) = child.meta["meta_prompts"]
    assert "A list of 100 hints" in prompt
    assert f"PROBLEM DESCRIPTION:\n{PAYLOAD_TASK.description}\n" in prompt
    assert PARENT.task_prompt not in prompt
    assert child.mutation_prompt == PARENT.mutation_prompt
