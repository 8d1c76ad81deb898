"""A power sensor whose counter integrates whatever power a test sets: the energy method without hardware."""

import threading
import time

from hwprof.drivers.base import PowerSample, PowerSensor


class ScriptedSensor(PowerSensor):
    """A counter that integrates whatever power the test sets; counts its windows."""

    source = "fake:total"
    primary_sensor = "total"
    has_counter = True
    update_period_s = 0.001
    min_window_s = 0.05
    poll_interval_s = 0.005

    def __init__(self, power_w=10.0, moving=True):
        super().__init__()
        self.power_w = power_w
        self.moving = moving
        self.key = ("performance",)
        self.windows = 0
        self._energy_j = 0.0
        self._last_t = time.monotonic()
        self._power_lock = threading.Lock()

    def set_power(self, power_w):
        with self._power_lock:
            self._advance()
            self.power_w = power_w

    def _advance(self):
        now = time.monotonic()
        if self.moving:
            self._energy_j += self.power_w * (now - self._last_t)
        self._last_t = now

    def _read_energy_j(self):
        with self._power_lock:
            self._advance()
            return self._energy_j

    def _poll_samples(self, now):
        return [PowerSample(now, "total", self.power_w)] if self.moving else []

    def start_window(self):
        self.windows += 1
        super().start_window()

    def clock_key(self):
        return self.key

    def metadata(self):
        return {"driver": "scripted"}
