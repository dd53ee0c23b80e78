"""The ``breed`` command line. Thin: it parses, calls the library, renders.

Start-up is kept fast (``breed --help`` < 0.5 s): command modules import only ``click`` at top
level; the library, pydantic, litellm and dspy are imported inside the command bodies.

Errors: an ``OptimizerError`` becomes one line on stderr (``error: ...``) and its exit code;
usage errors exit 2; Ctrl-C exits 130. Set ``BREED_DEBUG=1`` to see tracebacks.
"""

from __future__ import annotations

import os
import sys

import click

from optimizer.cli import (
    cicd_cmd,
    data_cmd,
    db_cmd,
    eval_cmd,
    inspect_cmd,
    release_cmd,
    run_cmd,
    tune_cmd,
    validate_cmd,
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="promptbreed", prog_name="breed")
def cli() -> None:
    """promptbreed: evolve, check and promote prompts (offline by default)."""


cli.add_command(run_cmd.run_command)
cli.add_command(run_cmd.resume_command)
cli.add_command(inspect_cmd.runs_command)
cli.add_command(inspect_cmd.status_command)
cli.add_command(inspect_cmd.show_command)
cli.add_command(inspect_cmd.lineage_command)
cli.add_command(inspect_cmd.compare_command)
cli.add_command(tune_cmd.tune_command)
cli.add_command(eval_cmd.eval_command)
cli.add_command(data_cmd.data)
cli.add_command(db_cmd.db)
cli.add_command(validate_cmd.report_command)
cli.add_command(cicd_cmd.check_command)
cli.add_command(cicd_cmd.shadow_command)
cli.add_command(cicd_cmd.review_command)
cli.add_command(release_cmd.promote_command)
cli.add_command(release_cmd.releases_command)
cli.add_command(release_cmd.rollback_command)
cli.add_command(release_cmd.export_command)


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: run the CLI and turn errors into one line + exit code."""
    from optimizer.errors import OptimizerError

    try:
        rv = cli.main(args=argv, prog_name="breed", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as err:
        hint = ""
        if isinstance(err, click.UsageError) and err.ctx is not None:
            hint = f" (see {err.ctx.command_path} --help)"
        click.echo(f"error: {err.format_message()}{hint}", err=True)
        sys.exit(err.exit_code)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)
    except OptimizerError as err:
        if os.environ.get("BREED_DEBUG"):
            raise
        click.echo(f"error: {err}", err=True)
        sys.exit(err.exit_code)
    except Exception as err:
        if os.environ.get("BREED_DEBUG"):
            raise
        click.echo(
            f"error: internal error ({type(err).__name__}: {err}); "
            "rerun with BREED_DEBUG=1 for a traceback and report it",
            err=True,
        )
        sys.exit(1)
    sys.exit(rv if isinstance(rv, int) else 0)
