"""What a CI/CD command argument names, and the config used to score it.

Contracts:
- ``Prompt`` is an evaluated prompt: the exact text sent as the system prompt (a candidate's
  task-prompt with its few-shot lines rendered), a stable ``sha256`` of that text, and, when
  it is stored, the candidate id.
- ``resolve_prompt(store, arg)``: an argument shaped like a candidate id (``c`` + hex digits,
  at least 5 characters) must name a stored candidate (``NotFoundError`` otherwise); anything
  else is a prompt file when such a file exists, else literal prompt text.
- ``resolve_baseline``: ``--against`` is ``NAME@VERSION|@ALIAS``, an alias of the release
  line (``production`` by default), a candidate id, or a prompt file/text. When the default
  alias is not set yet (the first promotion), the baseline is the seed prompt of the config.
- ``config_for``: the ``--config`` file when given, else the config stored with the
  candidate's run; a bare prompt without ``--config`` is a ``ConfigError``.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from optimizer.errors import ConfigError, NotFoundError

if TYPE_CHECKING:
    from optimizer.config import Config
    from optimizer.store import CandidateRecord, ReleaseRecord, Store

CANDIDATE_ARG = re.compile(r"^c[0-9a-f]{4,20}$")
ALIAS_ARG = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")
DEFAULT_ALIAS = "production"


@dataclass(frozen=True)
class Prompt:
    """An evaluated prompt and where it came from."""

    text: str
    source: str  # human description: "candidate c...", "payload-classifier v3 (production)"
    candidate_id: str | None = None
    release: ReleaseRecord | None = None

    @property
    def sha256(self) -> str:
        return text_sha256(self.text)


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def candidate_text(c: CandidateRecord) -> str:
    """The prompt a candidate is evaluated with (task-prompt plus few-shot lines)."""
    from optimizer.units import Shot, render_prompt_text

    shots = [Shot(str(s["input"]), str(s["label"])) for s in (c.context or [])]
    return render_prompt_text(c.text, shots)


def _read_file_or_text(arg: str, what: str) -> str:
    p = Path(arg)
    try:
        is_file = len(arg) < 4096 and "\n" not in arg and p.is_file()
    except OSError:
        is_file = False
    if is_file:
        try:
            text = p.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise ConfigError(f"{what} file {p} is not UTF-8 text; save it as UTF-8") from None
    else:
        text = arg
    if not text.strip():
        raise ConfigError(f"the {what} is empty; pass a prompt file, prompt text or a candidate")
    return text


def resolve_prompt(store: Store, arg: str) -> Prompt:
    """A candidate (by id or unique prefix), else a prompt file, else literal prompt text."""
    if CANDIDATE_ARG.match(arg.strip().lower()):
        c = store.get_candidate(arg.strip())
        return Prompt(candidate_text(c), f"candidate {c.id}", candidate_id=c.id)
    return Prompt(_read_file_or_text(arg, "prompt"), "prompt text")


def require_candidate(store: Store, arg: str) -> CandidateRecord:
    """The candidate named by ``arg``; NotFoundError names the fix otherwise."""
    if not CANDIDATE_ARG.match(arg.strip().lower()):
        raise NotFoundError(f"{arg[:60]!r} is not a candidate id; pass an id shown by "
                            "`breed check` or `breed status RUN`")
    return store.get_candidate(arg.strip())


def release_prompt(store: Store, rel: ReleaseRecord, alias: str | None = None) -> Prompt:
    c = store.get_candidate(rel.candidate_id)
    where = f"{rel.name} v{rel.version}" + (f" ({alias})" if alias else "")
    return Prompt(candidate_text(c), where, candidate_id=c.id, release=rel)


def parse_release_ref(ref: str) -> tuple[str, str | None]:
    """``NAME[@VERSION|@ALIAS]`` -> (name, version-or-alias or None)."""
    name, _, at = ref.partition("@")
    if not name:
        raise ConfigError(f"{ref!r} names no release line; use NAME[@VERSION|@ALIAS]")
    return name, (at or None)


def release_line(store: Store, name: str | None) -> str | None:
    """``name``, or the store's only release line, or None when there is none."""
    if name:
        return name
    names = sorted({r.name for r in store.releases()})
    if len(names) > 1:
        raise ConfigError(f"the store has several release lines ({', '.join(names)}); "
                          "pass --name NAME")
    return names[0] if names else None


def resolve_baseline(
    store: Store, against: str | None, name: str | None, config: Config, seed_prompt: str | None
) -> Prompt:
    """The prompt a candidate is compared with (see the module contract)."""
    ref = against or DEFAULT_ALIAS
    if "@" in ref:
        line, at = parse_release_ref(ref)
        return release_prompt(store, store.get_release(line, at), None if
                              (at or "").isdigit() else at)
    if ALIAS_ARG.match(ref) and not CANDIDATE_ARG.match(ref):
        line = release_line(store, name)
        if line is not None:
            target = store.aliases(line).get(ref)
            if target is not None:
                return release_prompt(store, target, ref)
        if against is None or ref == DEFAULT_ALIAS:
            text = seed_prompt or _config_prompt(config)
            if text is None:
                raise ConfigError("no production release yet and no seed prompt to compare "
                                  "with; pass --against PROMPT|CANDIDATE")
            return Prompt(text, f"seed prompt (no {ref} release yet)")
        raise NotFoundError(f"release line {line or '(none)'} has no alias {ref!r}; "
                            "see `breed releases NAME`")
    return resolve_prompt(store, ref)


def _config_prompt(config: Config) -> str | None:
    if config.prompt is None:
        return None
    from optimizer.wiring import read_prompt

    return read_prompt(None, config)


def run_config(store: Store, run_id: str) -> tuple[Config, str | None]:
    """(config, seed prompt) stored with a run."""
    from optimizer.config import parse_config

    run = store.get_run(run_id)
    stored = dict(run.config)
    if "config" not in stored:
        raise ConfigError(f"run {run.id} has no stored config; pass --config CONFIG")
    config = parse_config(stored["config"], base_dir=stored.get("base_dir", "."))
    seed = stored.get("seed_prompt")
    return config, (seed if isinstance(seed, str) and seed.strip() else None)


def config_for(
    store: Store, config_path: Path | None, candidate_id: str | None
) -> tuple[Config, str | None]:
    """(config, seed prompt): ``--config`` wins; else the candidate's run config."""
    from optimizer.config import load_config

    seed: str | None = None
    if candidate_id is not None:
        c = store.get_candidate(candidate_id)
        try:
            stored, seed = run_config(store, c.run_id)
        except ConfigError:
            stored = None
        if config_path is None:
            if stored is None:
                raise ConfigError(f"candidate {c.id} has no stored config; pass --config CONFIG")
            return stored, seed
    if config_path is None:
        raise ConfigError("a prompt file or text needs --config CONFIG (data, models, gate)")
    return load_config(config_path), seed
