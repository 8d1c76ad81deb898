"""Stand-ins for power hardware: sysfs trees, a tegrastats script and an NVML module."""
