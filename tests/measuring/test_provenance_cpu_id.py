"""A run records the CPU's vendor, family, model, stepping and microcode: a cloud VM names a Milan and a Genoa both
"AMD EPYC", and compare and fit pair runs by that name."""

from fakes.sysfs import write_file
from hwprof.drivers.host import cpu_id
from hwprof.measuring.provenance import collect_provenance

GENOA = (
    "processor\t: 0\nvendor_id\t: AuthenticAMD\ncpu family\t: 25\nmodel\t\t: 17\nmodel name\t: AMD EPYC\n"
    "stepping\t: 1\nmicrocode\t: 0x1000065\n\n"
    "processor\t: 1\nvendor_id\t: AuthenticAMD\ncpu family\t: 25\nmodel\t\t: 1\nmodel name\t: AMD EPYC\n"
    "stepping\t: 0\nmicrocode\t: 0xa0011d1\n"
)


def test_the_first_processors_identity_is_recorded_beside_its_name(sysfs_root):
    write_file(sysfs_root / "proc" / "cpuinfo", GENOA)
    record = collect_provenance("cpu", 1, ["x"])
    assert record["cpu_model"] == "AMD EPYC"
    assert record["cpu_id"] == {
        "vendor": "AuthenticAMD",
        "family": "25",
        "model": "17",
        "stepping": "1",
        "microcode": "0x1000065",
    }


def test_fields_the_kernel_does_not_give_are_unreadable(sysfs_root):
    write_file(sysfs_root / "proc" / "cpuinfo", "processor\t: 0\nCPU implementer\t: 0x41\nCPU part\t: 0xd0c\n")
    assert set(cpu_id().values()) == {"unreadable"}
    write_file(sysfs_root / "proc" / "cpuinfo", "")
    assert cpu_id() == dict.fromkeys(("vendor", "family", "model", "stepping", "microcode"), "unreadable")
