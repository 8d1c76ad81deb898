"""`hwprof report DATASET... --out report.html`: one self-contained HTML page of datasets and a predictor."""

from __future__ import annotations

import click

from hwprof.cli.common import echo_json, run_model_files_option
from hwprof.errors import HwprofError
from hwprof.predictor import INTERVAL_CONFIDENCE


@click.command()
@click.argument("datasets", nargs=-1, required=True, metavar="DATASET...")
@click.option("--out", "-o", required=True, help="HTML file to write (replaced if it exists).")
@click.option("--predictor", default=None, help="Also score this predictor.json on the datasets.")
@click.option(
    "--confidence", type=float, default=INTERVAL_CONFIDENCE, show_default=True, help="Interval level for --predictor."
)
@run_model_files_option
@click.option("--json", "as_json", is_flag=True, help="Print what went into the report as JSON.")
def report(datasets, out, predictor, confidence, run_model_files, as_json):
    """Write one HTML file that opens offline (images embedded, no network) with, for DATASET...:

    \b
    - each network's time by op type (its layers timed alone, summed per op);
    - a roofline of every layer: achieved GMAC/s against arithmetic intensity,
      under the device's peak compute and memory rates measured in the data;
    - latency and energy per inference against batch size;
    - power traces (DATASET's stem + .trace.parquet, from --trace) with the
      idle and load windows shaded, or "no power trace";
    - the commands `hwprof run` measured into it, or "no commands";
    - with --predictor, predicted against measured, with its errors.
    """
    from hwprof.report.page import build_report

    if predictor is None:  # a level out of range is refused as such first
        from hwprof.predictor.predictor import check_confidence

        check_confidence(confidence)
        _check_confidence_unset(confidence)
    summary = build_report(
        list(datasets), out, predictor=predictor, confidence=confidence, run_model_files=run_model_files
    )
    if as_json:
        echo_json(summary)
        return
    click.echo(f"wrote {summary['out']}: {len(summary['sections'])} sections, {summary['images']} images")


def _check_confidence_unset(confidence: float) -> None:
    """Refuse --confidence at another value than its default without --predictor: it only sets the level of the
    predictor's intervals, so a report without one would ignore it, silently."""
    default = next(param.default for param in click.get_current_context().command.params if param.name == "confidence")
    if confidence != default:
        raise HwprofError(
            f"--confidence {confidence:g} only sets the interval level of --predictor: add --predictor, or drop it"
        )
