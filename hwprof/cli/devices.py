"""`hwprof devices` (what can be measured here, and why not) and `hwprof plot-trace`."""

from __future__ import annotations

import os
from pathlib import Path

import click

from hwprof.cli.common import echo_json, existing_tegrastats
from hwprof.errors import HwprofError

TEGRASTATS_PROBE_S = 1.5  # how long `devices` waits for tegrastats' first rails: a listing stays quick


def _rapl_entry() -> dict:
    from hwprof.drivers.base import SensorUnavailable
    from hwprof.drivers.rapl import RaplSensor, discover_zones, unavailable_reason

    zones = discover_zones()
    entry = {
        "sensor": "rapl",
        "device": "cpu",
        "usable": False,
        "source": None,
        "measures": "CPU package energy from the RAPL counters (psys where there is no package zone)",
        "zones": [{"name": z.name, "role": z.role, "readable": z.readable} for z in zones],
    }
    reason = unavailable_reason(zones)
    if reason is None:
        try:
            sensor = RaplSensor(zones)
            sensor.open()  # its probe: a counter that never moves is refused here as measure would refuse it
            sensor.close()
            entry.update(
                usable=True,
                source=sensor.source,
                zones=[
                    {"name": z.name, "role": z.role, "readable": z.readable, "counted": z.counted, "mirrors": z.mirrors}
                    for z in zones
                ],
            )
        except SensorUnavailable as unavailable:
            reason = str(unavailable)
    if reason:
        entry["reason"] = reason
    return entry


NVML_MEASURES = "GPU energy counter (primary) and instantaneous power (cross-check) through NVML"
GPU_MEASURES = {  # (energy counter, power field): what that GPU gives
    (True, "power_instant"): NVML_MEASURES,
    (True, "power_instant_module"): (
        "GPU energy counter (primary) through NVML; the module's instantaneous power is recorded, not a cross-check "
        "(it covers more than the GPU)"
    ),
    (True, "power_usage"): (
        "GPU energy counter (primary) through NVML; nvmlDeviceGetPowerUsage's power is recorded, not a cross-check "
        "(a 1 s average from Ampere on)"
    ),
    (True, None): "GPU energy counter through NVML (no power reading to cross-check it)",
    (False, "power_instant"): "GPU energy integrated from its instantaneous power through NVML (no energy counter)",
    (False, "power_instant_module"): (
        "energy integrated from the module's instantaneous power through NVML (no energy counter; it covers more "
        "than the GPU)"
    ),
    (False, "power_usage"): (
        "GPU energy integrated from nvmlDeviceGetPowerUsage's power through NVML (no energy counter)"
    ),
}


def _gpu_measures(gpu: dict) -> str:
    """What this GPU gives NVML, not what the best GPU would; one with neither, or unreadable, says why not."""
    return GPU_MEASURES.get(
        (gpu["energy_counter"], gpu["power_field"]), "GPU energy or power through NVML, where the GPU reports either"
    )


def _hidden_reason(index: int) -> str:
    """Why a GPU CUDA_VISIBLE_DEVICES leaves out cannot be measured: no cuda:N, so no --device, reaches it."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    return (
        f"GPU {index} is hidden from CUDA by CUDA_VISIBLE_DEVICES='{visible}', so no --device cuda:N runs on it; "
        "add its index or UUID to the variable (before any entry that names no GPU, where CUDA stops reading it), "
        "or unset it, to measure it"
    )


def _cuda_use(name: str | None, certain: bool) -> str | None:
    """The --device that runs on a GPU, with the doubt where CUDA's numbering may differ from NVML's."""
    if name is None:
        return None
    return f"--device {name}" if certain else f"--device {name} (by index; set CUDA_DEVICE_ORDER=PCI_BUS_ID to be sure)"


def _nvml_entries(devices: list[dict]) -> list[dict]:
    from hwprof.drivers.base import SensorUnavailable
    from hwprof.drivers.nvml import cuda_names, describe_gpu, load_pynvml

    measures = NVML_MEASURES
    try:
        pynvml = load_pynvml()
    except SensorUnavailable as unavailable:
        return [
            {
                "sensor": "nvml",
                "device": "cuda",
                "usable": False,
                "source": None,
                "measures": measures,
                "reason": str(unavailable),
            }
        ]
    entries = []
    try:
        names = cuda_names(pynvml)
        hidden = os.environ.get("CUDA_VISIBLE_DEVICES") is not None
        for index in range(pynvml.nvmlDeviceGetCount()):
            gpu = describe_gpu(pynvml, index)
            cuda, certain = names.get(index, (None, None))
            if cuda is None and hidden and "reason" not in gpu:
                gpu["reason"] = _hidden_reason(index)
            devices.append(
                {
                    "device": f"nvml:{index}",
                    "kind": "gpu",
                    "name": gpu["name"],
                    "uuid": gpu["uuid"],
                    "cuda": cuda,
                    "cuda_mapping_certain": certain,
                    "hidden_by_cuda_visible_devices": cuda is None and hidden,
                }
            )
            entry = {
                "sensor": "nvml",
                "device": f"nvml:{index}",
                "cuda": cuda,
                "usable": "reason" not in gpu,
                "source": None,
                "measures": _gpu_measures(gpu),
                "energy_counter": gpu["energy_counter"],
                "power_field": gpu["power_field"],
            }
            if "note" in gpu:
                entry["note"] = gpu["note"]
            if cuda is not None and "reason" not in gpu:
                entry["use"] = _cuda_use(cuda, certain)
            if "reason" in gpu:
                entry["reason"] = gpu["reason"]
            else:
                entry["source"] = (
                    f"nvml:{index}:total_energy" if gpu["energy_counter"] else f"nvml:{index}:{gpu['power_field']}"
                )
            entries.append(entry)
    finally:
        pynvml.nvmlShutdown()
    if not entries:
        entries.append(
            {
                "sensor": "nvml",
                "device": "cuda",
                "usable": False,
                "source": None,
                "measures": measures,
                "reason": "NVML is installed but sees no GPU; check `nvidia-smi -L`",
            }
        )
    return entries


def _jetson_entries(tegrastats: str | None, devices: list[dict]) -> list[dict]:
    from hwprof.drivers.base import SensorUnavailable
    from hwprof.drivers.host import devicetree_model
    from hwprof.drivers.jetson import NOT_A_JETSON, Ina3221Sensor, discover_ina3221, find_tegrastats, is_jetson

    if not is_jetson():
        if tegrastats:  # --tegrastats PATH: the user says this is a Jetson, and measure would try it
            return [_tegrastats_entry(tegrastats)]
        return [
            {
                "sensor": "jetson",
                "device": "cpu+gpu",
                "usable": False,
                "source": None,
                "measures": "module power rails (total, GPU, CPU, SOC)",
                "reason": NOT_A_JETSON,
            }
        ]
    devices.append({"device": "jetson", "kind": "soc", "name": devicetree_model() or "Jetson"})
    entries = []
    rails = discover_ina3221()
    ina = {
        "sensor": "ina3221",
        "device": "cpu+gpu",
        "usable": False,
        "source": None,
        "measures": "module power rails read from the INA3221 sysfs (faster than tegrastats)",
        "rails": [r.name for r in rails],
    }
    if rails:
        try:
            sensor = Ina3221Sensor(rails)  # not opened: the board's rule and the rails it needs are checked
            ina.update(usable=True, source=sensor.source, board=sensor.rule.board)
            if sensor.unreadable_rails:
                ina["unreadable_rails"] = sensor.unreadable_rails
        except SensorUnavailable as unavailable:
            ina["reason"] = str(unavailable)
    else:
        unreadable = "" if os.geteuid() == 0 else " (run as root if the monitors exist but are unreadable)"
        ina["reason"] = (
            f"no readable INA3221 monitor under /sys/class/hwmon or /sys/bus/iio; tegrastats is used instead{unreadable}"
        )
    entries.append(ina)
    entries.append(_tegrastats_entry(find_tegrastats(tegrastats)))
    return entries


def _tegrastats_entry(path: str | None) -> dict:
    """tegrastats started for a moment, as measure starts it: found is not usable when it exits at once."""
    from hwprof.drivers.base import SensorUnavailable
    from hwprof.drivers.jetson import TegrastatsSensor

    stats = {
        "sensor": "tegrastats",
        "device": "cpu+gpu",
        "usable": False,
        "source": None,
        "path": path,
        "measures": "module power rails, instantaneous value of each (board total by the board's rule)",
    }
    if path is None:
        stats["reason"] = (
            "tegrastats is not found; pass --tegrastats PATH, set HWPROF_TEGRASTATS, or install nvidia-l4t-tools"
        )
    elif not Path(path).is_file():
        stats["reason"] = f"tegrastats at {path} does not exist; pass the right path with --tegrastats PATH"
    else:
        try:
            with TegrastatsSensor(path, start_timeout_s=TEGRASTATS_PROBE_S) as sensor:
                stats.update(usable=True, source=sensor.source, board=sensor.rule.board)
        except SensorUnavailable as unavailable:
            stats["reason"] = str(unavailable)
    return stats


def collect_devices(tegrastats: str | None = None) -> dict:
    """Every device and power sensor found, what each measures, and why any cannot be used."""
    from hwprof.drivers.host import describe_cpu

    devices = [{"kind": "cpu", **describe_cpu()}]
    sensors = [_rapl_entry()]
    sensors += _nvml_entries(devices)
    sensors += _jetson_entries(tegrastats, devices)
    return {"devices": devices, "sensors": sensors}


def _print_report(report: dict) -> None:
    click.echo("Devices")
    for device in report["devices"]:
        extras = []
        if device.get("logical_cpus"):
            usable = device.get("usable_cpus") or device["logical_cpus"]
            mine = f" ({usable} usable by this process)" if usable < device["logical_cpus"] else ""
            extras.append(f"{device['logical_cpus']} logical CPUs{mine}")
        if device.get("cpu_quota"):
            extras.append(f"cgroup quota {device['cpu_quota']:g} CPUs")
        if device.get("scaling_governor"):
            extras.append(f"governor {device['scaling_governor']}")
        if device.get("virtual_machine"):
            extras.append("virtual machine")
        if device.get("cuda"):
            extras.append(device["cuda"] + ("" if device["cuda_mapping_certain"] else " by index"))
        if device.get("hidden_by_cuda_visible_devices"):
            extras.append("hidden from CUDA by CUDA_VISIBLE_DEVICES")
        suffix = f" ({', '.join(extras)})" if extras else ""
        click.echo(f"  {device['device']:<10} {device['name']}{suffix}")
    click.echo("Power sensors")
    for sensor in report["sensors"]:
        status = "usable" if sensor["usable"] else "unusable"
        click.echo(f"  {sensor['sensor']:<10} {sensor['device']:<10} {status}")
        click.echo(f"      measures: {sensor['measures']}")
        if sensor.get("source"):
            click.echo(f"      source:   {sensor['source']}")
        if sensor.get("use"):
            click.echo(f"      use:      {sensor['use']}")
        if sensor.get("note"):
            click.echo(f"      note:     {sensor['note']}")
        if sensor.get("reason"):
            click.echo(f"      why not:  {sensor['reason']}")


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option(
    "--tegrastats",
    callback=existing_tegrastats,
    default=None,
    help="Path to tegrastats on a Jetson (else $HWPROF_TEGRASTATS, PATH, /usr/bin).",
)
def devices(as_json, tegrastats):
    """List the devices and power sensors found here, and why any sensor cannot be used."""
    from hwprof.drivers.host import check_sysfs_root

    check_sysfs_root()
    report = collect_devices(tegrastats)
    if as_json:
        echo_json(report)
    else:
        _print_report(report)


@click.command("plot-trace")
@click.argument("trace", type=click.Path(dir_okay=False))
@click.option(
    "--out",
    "-o",
    type=click.Path(dir_okay=False),
    default=None,
    help="PNG to write (default: TRACE with the extension .png).",
)
def plot_trace(trace, out):
    """Draw a power trace written by `hwprof measure --trace` or `hwprof run --trace`: watts against time,
    one line per sensor, with the idle and load windows shaded."""
    from hwprof.traces import read_trace

    if out == "":  # not the default, which leaving it out is
        raise HwprofError("--out is empty: give a file name such as trace.png, or leave it out to write TRACE as .png")
    frame = read_trace(trace)
    if frame.empty:
        raise HwprofError(f"{trace} holds no power samples, so there is nothing to plot")
    if not frame["power_w"].notna().any():
        raise HwprofError(
            f"{trace} holds {len(frame)} samples but no power reading in any, so there is nothing to plot"
        )
    out_path = Path(out) if out else Path(trace).with_suffix(".png")
    if out_path.suffix.lower() != ".png":
        raise HwprofError(f"--out {out_path} must end in .png")

    from hwprof.fitting.data import readable_text
    from hwprof.plotting import save_figure
    from hwprof.report import figures

    # a write that fails is one sentence naming the file
    save_figure(figures.trace(frame, readable_text(Path(trace).name), figsize=(10, 4.5)), out_path, dpi=120)
    click.echo(f"wrote {out_path}")
