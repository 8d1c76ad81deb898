"""An error names a setting the way its caller wrote it: a Python keyword or a command-line flag."""

import pytest

from hwprof.errors import HwprofError, option


@pytest.mark.parametrize(
    "setting, python, cli",
    [
        (option("precision", 1.5), "precision=1.5", "--precision 1.5"),
        (option("max_item_s"), "max_item_s", "--max-time"),
        (option("resume", True), "resume=True", "--resume"),
        (option("layers", False), "layers=False", "--no-layers"),
        (option("device_name", "'Board A'"), "device_name='Board A'", "--device-name 'Board A'"),
    ],
)
def test_a_setting_reads_as_python_or_as_a_flag(setting, python, cli):
    error = HwprofError(f"bad {setting}; fix it")
    assert str(error) == f"bad {python}; fix it"
    assert error.cli_message() == f"bad {cli}; fix it"


def test_library_errors_never_show_flags():
    import hwprof

    with pytest.raises(HwprofError) as raised:
        hwprof.measure(["mlp"], precision=2.0)
    assert "precision=2.0" in str(raised.value) and "--" not in str(raised.value)
    with pytest.raises(HwprofError, match="no setting colour"):
        hwprof.measure(["mlp"], colour="red")


def test_the_api_defaults_are_the_cli_defaults():
    from hwprof.cli.measure import measure as command
    from hwprof.measuring.session import MeasureOptions

    defaults = MeasureOptions()
    flags = {param.name: param.default for param in command.params}
    assert flags["power"] == defaults.power == "auto"
    assert flags["device"] == defaults.device
    assert flags["precision"] == defaults.precision and flags["max_item_s"] == defaults.max_item_s
    assert flags["allocator"] == defaults.allocator and flags["threads"] == defaults.threads
    assert flags["seed"] == defaults.seed and defaults.layers  # --no-layers is off by default
    assert flags["processes"] == defaults.processes == 1
    assert flags["max_other_share"] == defaults.max_other_share
    assert [int(size) for size in flags["batch_sizes"].split(",")] == list(defaults.batch_sizes)


@pytest.mark.parametrize("fraction, text", [(0.995, "99.5%"), (0.005, "0.5%"), (0.9, "90%"), (0.025, "2.5%")])
def test_a_level_a_user_gave_keeps_its_digits(fraction, text):
    """`:.0%` printed a 99.5% interval as '100% intervals' and a 0.5% gate as 'the 0% gate'."""
    from hwprof.errors import given_percent

    assert given_percent(fraction) == text


def test_predict_titles_its_intervals_at_the_level_given(tmp_path):
    from click.testing import CliRunner

    from fakes.synthetic import fitted_predictor_path
    from hwprof.cli import main

    predictor, _ = fitted_predictor_path(tmp_path)
    result = CliRunner().invoke(main, ["predict", str(predictor), "mlp", "--confidence", "0.995"])
    assert result.exit_code == 0, result.output
    assert "99.5% intervals" in result.output and "100% intervals" not in result.output
