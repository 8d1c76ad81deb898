"""The report opened in a real headless Chromium: every section visible, every image decoded, no console
message. Skipped, saying why, where Debian's `chromium` is not installed (`.ci/run` installs it where it can).

A copy of the report gets a small script that writes what the browser sees into the page (section boxes,
each image's decoded width); `--dump-dom` prints the page after that script ran, and Chromium's log
(`--enable-logging=stderr`) carries every console message. A planted page with a console error and a broken
image proves the checks can fail.
"""

import shutil
import subprocess
from pathlib import Path

import pytest

from fakes.synthetic import fitted_predictor_path, synthetic_frame, write
from fakes.traces import windowed_trace_rows
from hwprof.report.page import build_report
from hwprof.traces import write_trace

CHROMIUM = shutil.which("chromium")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        CHROMIUM is None, reason="Debian's chromium is not installed (apt-get install chromium); .ci/run installs it"
    ),
]

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--enable-logging=stderr",
    "--v=0",
    "--virtual-time-budget=5000",
]

CHECK = """<script>
window.addEventListener("load", () => {
  const lines = [];
  for (const section of document.querySelectorAll("section")) {
    const box = section.getBoundingClientRect(), style = getComputedStyle(section);
    const shown = box.width > 0 && box.height > 0 && style.display !== "none" && style.visibility !== "hidden";
    lines.push(`section ${section.id} ${shown ? "visible" : "hidden"}`);
  }
  for (const image of document.images) {
    lines.push(`image ${image.complete && image.naturalWidth > 0 ? "decoded" : "broken"} ${image.naturalWidth}`);
  }
  const out = document.createElement("pre");
  out.id = "hwprof-check";
  out.textContent = lines.join("\\n");
  document.body.appendChild(out);
});
</script>"""


def open_in_chromium(page: Path, profile: Path) -> tuple[list[str], list[str], str]:
    """(the check's lines, Chromium's console messages, the dumped DOM) of `page` with the check added."""
    checked = page.with_name(page.stem + ".checked.html")
    checked.write_text(page.read_text().replace("</body>", CHECK + "</body>"))
    result = subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "--dump-dom", checked.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    dom = result.stdout
    assert '<pre id="hwprof-check">' in dom, "the check did not run: " + result.stderr[-2000:]
    lines = dom.split('<pre id="hwprof-check">', 1)[1].split("</pre>", 1)[0].splitlines()
    console = [line for line in result.stderr.splitlines() if ":CONSOLE" in line]
    return lines, console, dom


def screenshot_is_drawn(page: Path, profile: Path, shot: Path) -> float:
    """The share of the first screen's pixels that are not white."""
    import numpy as np
    from PIL import Image

    subprocess.run(
        [
            CHROMIUM,
            *FLAGS,
            f"--user-data-dir={profile}",
            "--window-size=1200,1600",
            f"--screenshot={shot}",
            page.as_uri(),
        ],
        capture_output=True,
        timeout=120,
        check=True,
    )
    return float((np.asarray(Image.open(shot).convert("L")) < 250).mean())


def test_every_section_is_visible_every_image_decoded_and_the_console_is_silent(tmp_path):
    predictor, _ = fitted_predictor_path(tmp_path, n_networks=10, layer_noise=0.03, network_noise=0.03)
    dataset = write(synthetic_frame(n_networks=4, batch_sizes=(1, 4), with_power=True), tmp_path / "cpu.parquet")
    write_trace(windowed_trace_rows(), tmp_path / "cpu.trace.parquet")
    summary = build_report([dataset], tmp_path / "report.html", predictor=predictor)
    lines, console, _ = open_in_chromium(tmp_path / "report.html", tmp_path / "profile")
    sections = [line.split()[1] for line in lines if line.startswith("section ") and line.endswith(" visible")]
    every = ["overview", "breakdown", "roofline", "batch", "power", "commands", "predictor"]  # no command: said so
    assert sections == summary["sections"] == every
    decoded = [line for line in lines if line.startswith("image decoded ")]
    assert len(decoded) == summary["images"] == 6 and all(int(line.split()[2]) > 100 for line in decoded)
    assert console == []
    assert screenshot_is_drawn(tmp_path / "report.html", tmp_path / "profile2", tmp_path / "shot.png") > 0.02


def test_the_checks_catch_a_console_error_and_a_broken_image(tmp_path):
    page = tmp_path / "planted.html"
    page.write_text(
        '<!DOCTYPE html><html><body><section id="s"><h2>s</h2><img alt="x" src="data:image/png;base64,AAAA">'
        '</section><script>console.error("planted")</script></body></html>'
    )
    lines, console, _ = open_in_chromium(page, tmp_path / "profile")
    assert "section s visible" in lines and "image broken 0" in lines
    assert len(console) == 1 and "planted" in console[0]
