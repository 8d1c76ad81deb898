"""tegrastats' GR3D_FREQ % (GPU load) and EMC_FREQ % (memory-controller load) reach the window's metadata."""

import sys
import time

import pytest

from hwprof.drivers.jetson import TegrastatsSensor
from hwprof.measuring.energy import window_state

# recorded-format lines: a Nano on JetPack 4 (no timestamp, one GPU clock) and an AGX Orin on JetPack 6
NANO_JP4 = (
    "RAM 1903/3964MB (lfb 2x2MB) SWAP 12/1982MB (cached 1MB) IRAM 0/252kB(lfb 252kB) "
    "CPU [12%@1479,9%@1479,20%@1479,7%@1479] EMC_FREQ 3%@1600 GR3D_FREQ 41%@921 APE 25 "
    "PLL@36C CPU@39.5C PMIC@50C GPU@38C AO@44C thermal@38.75C "
    "POM_5V_IN 4120/3874 POM_5V_GPU 1210/1102 POM_5V_CPU 812/790"
)
AGX_ORIN_JP6 = (
    "05-03-2024 14:22:31 RAM 5210/30536MB (lfb 5523x4MB) SWAP 0/15268MB (cached 0MB) "
    "CPU [93%@2201,88%@2201,0%@2201,0%@2201,off,off,off,off] EMC_FREQ 37%@3199 GR3D_FREQ 99%@[1300,1300] "
    "NVENC off NVDEC off VIC off APE 174 cpu@55.062C gpu@61.281C tj@62.062C "
    "VDD_GPU_SOC 14382mW/9100mW VDD_CPU_CV 2797mW/1780mW VIN_SYS_5V0 4429mW/3400mW VDDQ_VDD2_1V8AO 603mW/400mW"
)
# the GPU powered down, and the memory controller's clock left out as without root
GPU_OFF = AGX_ORIN_JP6.replace("EMC_FREQ 37%@3199 GR3D_FREQ 99%@[1300,1300]", "EMC_FREQ 37% GR3D_FREQ off")
THOR_JP7_IDLE = (  # clocks without loads: nothing to record
    "10-21-2025 16:05:40 RAM 3402/125772MB (lfb 120x4MB) CPU [0%,5%,off,1%]@2601 "
    "EMC_FREQ @4266 GR3D_FREQ @[1575,1575,1575] cpu@44.75C/44.75C tj@46.218C/46.218C "
    "gpu@45.2C/45.2C VDD_GPU -392mW/-392mW/-392mW VDD_CPU_SOC_MSS 3924mW/3835mW/3990mW "
    "VIN_SYS_5V0 5064mW/5055mW/5100mW VIN 15004mW/15096mW/15200mW"
)


def printing(tmp_path, line: str) -> str:
    """A tegrastats that prints `line` every --interval ms, as the board would under a steady load."""
    script = tmp_path / "tegrastats"
    script.write_text(
        f"#!{sys.executable}\nimport sys, time\n"
        "period_s = int(sys.argv[sys.argv.index('--interval') + 1]) / 1000\n"
        f"while True:\n    print({line!r}, flush=True)\n    time.sleep(period_s)\n"
    )
    script.chmod(0o755)
    return str(script)


@pytest.mark.parametrize(
    ("line", "gpu", "emc", "clocks_mhz"),
    [
        (NANO_JP4, 41, 3, (921, 1600)),
        (AGX_ORIN_JP6, 99, 37, (1300, 3199)),
        (GPU_OFF, 0, 37, (None, None)),
        (THOR_JP7_IDLE, None, None, (1575, 4266)),
    ],
)
def test_the_gpu_and_memory_controller_load_are_recorded_with_the_window(tmp_path, line, gpu, emc, clocks_mhz):
    """They were parsed and dropped: a window said what the rails drew, never how busy the GPU was."""
    with TegrastatsSensor(printing(tmp_path, line), interval_ms=20) as sensor:
        sensor.start_window()
        time.sleep(0.2)
        window = sensor.stop_window()
    assert window.power_w > 0  # the rails were read alongside
    assert window.metadata.get("gr3d_percent_median") == gpu
    assert window.metadata.get("emc_percent_median") == emc
    state = window_state(window)  # what a row of the window is given
    assert (state["gpu_load_percent"], state["emc_load_percent"]) == (gpu, emc)
    assert (state["gpu_sm_clock_mhz"], state["gpu_mem_clock_mhz"]) == clocks_mhz  # the columns NVML's fill


def test_a_row_keeps_the_loads_as_numbers():
    """The dataset refused them as columns that are not in hwprof.schema."""
    from hwprof.dataset import plain_row, rows_frame

    row = plain_row({"gpu_load_percent": 99, "emc_load_percent": 37.5}, "run-1")
    frame = rows_frame([row])
    assert frame["gpu_load_percent"].tolist() == [99.0] and frame["emc_load_percent"].dtype == "float64"
