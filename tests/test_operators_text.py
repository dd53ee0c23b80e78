"""Answer parsing, child validation, registry, seeds, model-free operators and unit rendering."""

from __future__ import annotations

import asyncio
import json
import random
from collections import Counter

import pytest

from optimizer.errors import ConfigError, OperatorError
from optimizer.operators import (
    OPERATORS,
    MutationContext,
    MutationOperator,
    choose_operator,
    load_seed_list,
    make_operator,
)
from optimizer.operators._text import (
    MAX_INPUT_CHARS,
    drop_near_duplicates,
    parse_answer,
    trigram_jaccard,
)
from optimizer.units import FailureCase, Shot, Unit, json_line, render_prompt

PARENT = Unit("p", "Classify the payload.", "Rephrase the instruction.", fitness=0.4)


def scripted(*answers: str):
    """A mutation model that answers from a fixed script (for the rejection paths)."""
    queue = list(answers)

    async def llm(text: str) -> str:
        return queue.pop(0)

    return llm


def ctx(llm=None, seed: int = 0, **overrides) -> MutationContext:
    fields = dict(
        llm=llm or scripted(),
        rng=random.Random(seed),
        problem_description="Classify payloads.",
        labels=("benign", "sqli"),
        population=(PARENT,),
    )
    fields.update(overrides)
    return MutationContext(**fields)


def run(name: str, parent: Unit = PARENT, **kw):
    return asyncio.run(make_operator(name).propose(parent, ctx(**kw)))


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("INSTRUCTION MUTANT: Label the payload.", "Label the payload."),
        ("Mutation prompt mutant:\nMake it shorter.", "Make it shorter."),
        ("```\nLabel the payload.\nUse one label.\n```", "Label the payload.\nUse one label."),
        ("```text\nINSTRUCTION MUTANT: Label it.\n```", "Label it."),
        ('"Label the payload."', "Label the payload."),
        ("“Label the payload.”", "Label the payload."),
        ("Here is the improved instruction:\nLabel the payload.", "Label the payload."),
        ("Here's a better version. Label the payload.", "Label the payload."),
        ("**New instruction:** Label the payload.", "Label the payload."),
        ("[6]\nLabel the payload.", "Label the payload."),
        ("[6]\nLabel the payload.\nBe brief.\n[7]\nAnother one.", "Label the payload.\nBe brief."),
        ('Say "sqli" for SQL, else "benign".', 'Say "sqli" for SQL, else "benign".'),
        ("  Label the payload.\n\n", "Label the payload."),
        ("Let me think.\nThe cues are weak.\nINSTRUCTION MUTANT: Label it.", "Label it."),
        ("INSTRUCTION:\nOld.\nINSTRUCTION MUTANT:\nNew one.", "New one."),
    ],
)
def test_parse_answer_strips_wrappers_only(raw: str, expected: str) -> None:
    assert parse_answer(raw) == expected


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ("", "empty"),
        ("```\n```", "empty"),
        ("  classify   the PAYLOAD. ", "identical"),
        ("x" * 5000, "too long"),
        ("Label it.\nINSTRUCTION:\nClassify the payload.", "echo"),
        (
            "Apply the mutation prompt to the instruction below and write the resulting new "
            "instruction.",
            "echo",
        ),
    ],
)
def test_unusable_answers_raise_operator_error(answer: str, reason: str) -> None:
    with pytest.raises(OperatorError, match=reason):
        run("first_order", llm=scripted(answer))


def test_long_inputs_are_clipped_in_meta_prompts() -> None:
    seen: list[str] = []

    async def llm(text: str) -> str:
        seen.append(text)
        return "Label the payload by its attack family."

    huge = FailureCase("A" * 5000 + "' OR 1=1--", "sqli", "benign")
    run("reflective", llm=llm, failures=(huge,))
    assert f"- input: {json_line('A' * MAX_INPUT_CHARS)}\n" in seen[0]
    assert len(seen[0]) < 3000


def test_hypermutation_rejects_a_bad_mutation_prompt_before_the_second_call() -> None:
    calls: list[str] = []

    async def llm(text: str) -> str:
        calls.append(text)
        return PARENT.mutation_prompt

    with pytest.raises(OperatorError, match="mutation prompt identical"):
        run("first_order_hyper", llm=llm)
    assert len(calls) == 1


def test_registry_choose_and_make() -> None:
    assert set(OPERATORS) == {
        "zero_order",
        "first_order",
        "eda",
        "eda_rank_index",
        "lineage",
        "zero_order_hyper",
        "first_order_hyper",
        "lamarckian",
        "crossover",
        "context_shuffle",
        "reflective",
    }
    for name in OPERATORS:
        assert isinstance(make_operator(name), MutationOperator)
        assert make_operator(name).name == name
    with pytest.raises(ConfigError, match="available: context_shuffle, crossover"):
        make_operator("mutate_harder")
    with pytest.raises(ConfigError, match="bad params"):
        make_operator("eda", nonsense=1)
    with pytest.raises(ConfigError, match="max_prompts"):
        make_operator("eda", max_prompts=1)


def test_config_default_operator_mix_is_registered() -> None:
    from optimizer.config import EvolutionConfig

    weights = EvolutionConfig().operators
    assert set(weights) == set(OPERATORS)
    assert choose_operator(weights, random.Random(0)) in OPERATORS


def test_choose_operator_is_weighted_deterministic_and_validated() -> None:
    weights = {"reflective": 3.0, "first_order": 1.0, "eda": 0.0}
    rng = random.Random(11)
    counts = Counter(choose_operator(weights, rng) for _ in range(4000))
    assert counts["eda"] == 0
    assert 0.72 < counts["reflective"] / 4000 < 0.78
    # insertion order of the mapping does not matter, only the RNG state
    reordered = dict(reversed(list(weights.items())))
    a = [choose_operator(weights, random.Random(5)) for _ in range(3)]
    b = [choose_operator(reordered, random.Random(5)) for _ in range(3)]
    assert a == b
    with pytest.raises(ConfigError, match=r"unknown operator\(s\) 'bogus'; available: "):
        choose_operator({"bogus": 1.0, "eda": 1.0}, rng)
    with pytest.raises(ConfigError, match="weight > 0"):
        choose_operator({"eda": 0.0}, rng)
    with pytest.raises(ConfigError, match=">= 0"):
        choose_operator({"eda": -1.0}, rng)


def test_seed_lists() -> None:
    mps, styles = load_seed_list("mutation_prompts"), load_seed_list("thinking_styles")
    assert len(mps) >= 30 and len(styles) >= 20
    for items in (mps, styles):
        assert len(set(items)) == len(items)
        assert all(item and not item.startswith("#") and "\n" not in item for item in items)
    text = " ".join(mps).lower()
    for emphasis in (
        "shorter",
        "example",
        "keywords",
        "decode",
        "boundary",
        "false positives",
        "rephrase",
        "wrong",
    ):
        assert emphasis in text
    with pytest.raises(ConfigError, match="available: mutation_prompts, thinking_styles"):
        load_seed_list("nope")


def test_crossover_is_fitness_proportionate_and_never_self() -> None:
    pop = (
        PARENT,
        Unit("a", "Prompt A.", "m", fitness=0.6),
        Unit("b", "Prompt B.", "m", fitness=0.3),
        Unit("c", "Prompt C.", "m", fitness=0.0),
        Unit("twin", "classify the  payload.", "m", fitness=0.9),
    )
    op = make_operator("crossover")
    rng = random.Random(3)
    donors = Counter()
    for _ in range(3000):
        child = asyncio.run(op.propose(PARENT, ctx(population=pop, rng=rng)))
        donors[child.meta["donor_id"]] += 1
        assert child.mutation_prompt == PARENT.mutation_prompt
        assert child.meta["meta_prompts"] == ()
    assert set(donors) == {"a", "b"}  # never the parent, its twin text, or a zero-fitness unit
    assert 0.63 < donors["a"] / 3000 < 0.70
    with pytest.raises(OperatorError, match="another unit"):
        run("crossover", population=(PARENT,))
    # all zero fitness: uniform
    flat = (PARENT, Unit("x", "X.", "m", fitness=0.0), Unit("y", "Y.", "m"))
    drawn = {run("crossover", population=flat, seed=s).task_prompt for s in range(20)}
    assert drawn == {"X.", "Y."}


def test_context_shuffle_adds_replaces_and_resamples_from_correct_shots() -> None:
    correct = tuple(Shot(f"input {i}", "sqli" if i % 2 else "benign") for i in range(6))
    op = make_operator("context_shuffle", size=2, resample_prob=0.0)
    grow = asyncio.run(op.propose(PARENT, ctx(correct=correct)))
    assert grow.meta["action"] == "resample" and len(grow.context) == 2  # empty -> sample
    parent = Unit("p", PARENT.task_prompt, PARENT.mutation_prompt, context=correct[:1])
    added = asyncio.run(op.propose(parent, ctx(correct=correct)))
    assert added.meta["action"] == "add" and added.context[0] == correct[0]
    assert len(added.context) == 2 and added.context[1] in correct
    full = Unit("p", PARENT.task_prompt, PARENT.mutation_prompt, context=correct[:2])
    replaced = asyncio.run(op.propose(full, ctx(correct=correct)))
    assert replaced.meta["action"] == "replace"
    assert len(set(replaced.context) & set(full.context)) == 1
    assert set(replaced.context) <= set(correct)
    always = make_operator("context_shuffle", size=3, resample_prob=1.0)
    resampled = asyncio.run(always.propose(full, ctx(correct=correct, seed=9)))
    assert resampled.meta["action"] == "resample" and len(resampled.context) == 3
    assert asyncio.run(always.propose(full, ctx(correct=correct, seed=9))) == resampled
    with pytest.raises(OperatorError, match="correct examples"):
        asyncio.run(op.propose(full, ctx(correct=())))
    with pytest.raises(OperatorError, match="no new correct"):
        asyncio.run(op.propose(full, ctx(correct=correct[:2])))


def test_trigram_similarity_filter() -> None:
    a = "Label sqli when the payload contains UNION SELECT or a quoted tautology like ' OR 1=1."
    assert trigram_jaccard(a, a) == 1.0
    assert trigram_jaccard(a, a.upper().replace(" ", "  ")) == 1.0  # case/space-insensitive
    assert trigram_jaccard(a, a[:-1] + "!") > 0.95
    assert trigram_jaccard(a, "Answer benign unless you see script tags.") < 0.3
    assert drop_near_duplicates([a, a[:-1] + "!", "Something else entirely."]) == [
        a,
        "Something else entirely.",
    ]


def test_render_prompt_and_json_line() -> None:
    unit = Unit("u", "Classify.", "m", context=(Shot('a"b\nc', "xss"), Shot("x\u2028y", "benign")))
    text = render_prompt(unit)
    lines = text.splitlines()
    assert lines == ["Classify.", 'Example: "a\\"b\\nc" -> xss', 'Example: "x\\u2028y" -> benign']
    assert json.loads(lines[2][len("Example: ") :].rsplit(" -> ", 1)[0]) == "x\u2028y"
    assert json_line("café") == '"café"'
    assert render_prompt(Unit("u", "Classify.", "m")) == "Classify."
