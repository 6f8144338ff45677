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
    "--only",
    type=click.Choice(["all-exact"]),
    default=None,
    help="Run only this part: all-exact — the all-exact mode against the reference and the peer, the "
    "CLI's cold and warm start, writing every site at 1M; its section replaces the old one in --out.",
)
def bench(sizes: str, out: Path, reference_limit: int, dask_size: int, only: str | None) -> None:
    """Time the engine against the obvious geopandas approach and write bench/results.md.

    \b
    Example:
      sitematch bench --sizes 10000,100000 --out /tmp/results.md
    """
    from sitematch.bench.run import run_bench

    try:
        ns = tuple(int(x.replace("_", "")) for x in sizes.split(","))
    except ValueError:
        raise click.BadParameter(f"{sizes!r}: give plot counts like 10000,100000") from None
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
