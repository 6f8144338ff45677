"""``sitematch bench``: the national-scale benchmark (see :mod:`sitematch.bench.run`)."""

from __future__ import annotations

from pathlib import Path

import click


@click.command("bench")
@click.option("--sizes", default="10000,100000,1000000", show_default=True, help="Plot counts, comma-separated.")
@click.option("--out", default=Path("bench/results.md"), show_default=True, type=click.Path(path_type=Path))
@click.option(
    "--reference-limit",
    default=100_000,
    show_default=True,
    help="Run the reference on at most this many sites (a sample above it; time scaled).",
)
@click.option(
    "--dask-size", default=1_000_000, show_default=True, help="Plots for the Dask run, 1 and 2 workers (0: skip)."
)
@click.option(
    "--planner-only",
    is_flag=True,
    help="Time only sitematch fit/gaps (bench/planner.md) and update that section of the report.",
)
@click.option(
    "--only",
    type=click.Choice(["all-exact", "fixed-costs"]),
    default=None,
    help="Run only this part: all-exact — the all-exact mode against the reference and the peer, the "
    "CLI's cold and warm start, writing every site at 1M; fixed-costs — the CLI's cold and warm start, "
    "writing 1M rows, Dask 1 and 2 workers through the CLI at --dask-size (0: skip). Its section replaces "
    "the old one in --out.",
)
def bench(sizes: str, out: Path, reference_limit: int, dask_size: int, planner_only: bool, only: str | None) -> None:
    """Time the engine against the obvious geopandas approach and write bench/results.md.

    \b
    Example:
      sitematch bench --sizes 10000,100000 --out /tmp/results.md
    """
    from sitematch.bench.run import run_bench

    if planner_only:
        from sitematch.bench.planner import SECTION, bench_planner

        section = bench_planner(100_000, out=out.parent / "planner.md", say=lambda m: click.echo(f"… {m}", err=True))
        text = out.read_text(encoding="utf-8") if out.is_file() else ""
        if SECTION in text:  # replace the old section (up to the next heading)
            head, rest = text.split(SECTION, 1)
            tail = rest.split("\n## ", 1)
            text = head + section + ("\n\n## " + tail[1] if len(tail) > 1 else "\n")
        else:
            text = text.rstrip("\n") + "\n\n" + section + "\n"
        out.write_text(text, encoding="utf-8")
        click.echo(section)
        return

    try:
        ns = tuple(int(x.replace("_", "")) for x in sizes.split(","))
    except ValueError:
        raise click.BadParameter(f"{sizes!r}: give plot counts like 10000,100000") from None
    if only == "fixed-costs":
        from sitematch.bench.fixed_costs import run_fixed_costs

        text = run_fixed_costs(out, dask_n=dask_size, say=lambda m: click.echo(f"… {m}", err=True))
        click.echo(text)
        click.echo(f"written to {out}")
        return
    if only == "all-exact":
        from sitematch.bench.exact_report import run_all_exact

        text = run_all_exact(ns, out=out, reference_limit=reference_limit, say=lambda m: click.echo(f"… {m}", err=True))
        click.echo(text)
        click.echo(f"written to {out}")
        return
    text = run_bench(
        ns, out=out, reference_limit=reference_limit, dask_n=dask_size, say=lambda m: click.echo(f"… {m}", err=True)
    )
    click.echo(text)
    click.echo(f"written to {out}")
