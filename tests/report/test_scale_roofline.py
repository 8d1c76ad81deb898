"""The roofline drew one 8-inch panel per device side by side: a 60-board fleet made a 48000 px wide image that
the page (1100 px wide) showed as a grey strip, and from 4 devices on each panel was under 300 px. Panels now
stand ROOFLINE_COLUMNS to a row, and past MAX_ROOFLINES devices those with the most layer rows are drawn, the
note saying how many of how many; the table still gives every device's peaks."""

import base64
import re
import struct

import pandas as pd

from fakes.synthetic import synthetic_frame, write
from hwprof.report.figures import MAX_ROOFLINES, ROOFLINE_COLUMNS, roofline
from hwprof.report.page import build_report

BOARDS = 9


def fleet() -> pd.DataFrame:
    """BOARDS boards, each with 1 to 3 networks: boards 2, 5 and 8 have the most layer rows."""
    frames = [
        synthetic_frame(n_networks=1 + n % 3, batch_sizes=(1,), seed=n, device=f"board-{n}") for n in range(BOARDS)
    ]
    return pd.concat(frames, ignore_index=True).assign(source="fleet.parquet")


def test_a_fleets_roofline_is_a_grid_of_the_boards_with_the_most_layers():
    frame = fleet()
    figure, note, peaks = roofline(frame)
    layers = frame[frame["kind"] == "layer"].groupby("device_name").size()
    most = sorted(layers.sort_values(ascending=False, kind="stable").index[:MAX_ROOFLINES])
    assert [axis.get_title().split(":")[0] for axis in figure.axes] == most
    width, height = figure.get_size_inches()
    assert width == 8 * ROOFLINE_COLUMNS and height == 5.5 * -(-MAX_ROOFLINES // ROOFLINE_COLUMNS)
    assert note == (
        f"The {MAX_ROOFLINES} devices with the most layer rows, of {BOARDS}, are drawn; the table gives every "
        "device's peaks."
    )
    assert sorted(peaks) == sorted(layers.index)


def test_three_boards_leave_no_empty_panel_and_no_note():
    frame = fleet()
    frame = frame[frame["device_name"].isin(["board-0", "board-1", "board-2"])]
    figure, note, peaks = roofline(frame)
    assert [axis.get_title().split(":")[0] for axis in figure.axes] == ["board-0", "board-1", "board-2"]
    assert note == "" and len(peaks) == 3


def test_the_reports_roofline_image_fits_the_page_and_its_table_names_every_board(tmp_path):
    dataset = write(fleet(), tmp_path / "fleet.parquet")
    build_report([dataset], tmp_path / "r.html")
    text = (tmp_path / "r.html").read_text()
    section = text[text.index('<section id="roofline">') : text.index('<section id="batch">')]
    (data,) = re.findall(r'src="data:image/png;base64,([^"]+)"', section)
    width, height = struct.unpack(">II", base64.b64decode(data)[16:24])  # the PNG header's IHDR
    assert width <= 8 * ROOFLINE_COLUMNS * 100 and height < 2000
    assert f"The {MAX_ROOFLINES} devices with the most layer rows, of {BOARDS}, are drawn" in section
    assert all(f"<td>board-{n}</td>" in section for n in range(BOARDS))


def test_layer_rows_naming_no_device_are_an_unknown_devices_panel():
    """Sorting the devices met a null name (a table from elsewhere) and stopped the report with a bug."""
    frame = fleet()
    frame = frame[frame["device_name"] == "board-0"].copy()
    frame.loc[frame.index[:4], "device_name"] = None
    figure, _, peaks = roofline(frame)
    assert [axis.get_title().split(":")[0] for axis in figure.axes] == ["board-0", "unknown device"]
    assert sorted(peaks) == ["board-0", "unknown device"]
