"""The simulated city's physical side: rain, the water at each gauge, and the TPS filling and emptying.

A mixin of ``feeds.simulator.CitySimulator``: these processes draw from the simulator's one
seeded random stream, in the order ``CitySimulator._step`` calls them, which is what lets a
seed reproduce the same city message for message. They change state only; turning the state
into payloads is ``feeds.sim_payloads``' job.
"""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta, tzinfo

from feeds.city import CityProfile
from feeds.sim_catalog import AWAS_M
from feeds.sim_state import _Container, _Station


class Environment:
    """Weather, rivers and drains, and waste: what ``CitySimulator`` steps every simulated minute."""

    city: CityProfile
    tz: tzinfo
    stations: list[_Station]
    containers: list[_Container]
    _rng: random.Random
    _rain_mm_h: float
    _rain_until: datetime | None

    def _make_stations(self) -> list[_Station]:
        """Per-station hydrology, fixed by station code so the city is the same every run.

        Depths are drawn for Awas at 2.5 m and scaled to the station's own Awas, so a city
        whose drains are Awas at 1.2 m, or a river at 6 m, sees its stages as often as
        Pekanbaru sees its own."""
        out = []
        for site in self.city.stations:
            r = random.Random(f"station:{site.code}")
            k = self.city.levels_of(site.code)[2] / AWAS_M
            if site.river:  # a river: high base, slow rise, stays up for hours
                st = _Station(
                    site,
                    base=r.uniform(0.9, 1.2) * k,
                    gain=r.uniform(0.01, 0.014) * k,
                    tau_h=r.uniform(8, 12),
                    rain_factor=r.uniform(0.9, 1.2),
                    reference=4.5 * k,
                )
            else:  # urban drains and small rivers: flashy
                st = _Station(
                    site,
                    base=r.uniform(0.25, 0.6) * k,
                    gain=r.uniform(0.045, 0.06) * k,
                    tau_h=r.uniform(1.2, 2.0),
                    rain_factor=r.uniform(0.8, 1.3),
                    reference=3.5 * k,
                )
            out.append(st)
        return out

    def _make_containers(self) -> list[_Container]:
        """The city's TPS, with stable ids, sizes and pickup times."""
        out = []
        for site in self.city.waste_sites:
            r = random.Random(f"tps:{site.tps_id}")
            daily = r.uniform(0.55, 1.15)
            out.append(
                _Container(
                    site.tps_id,
                    site.name,
                    site.kelurahan,
                    site.kecamatan,
                    site.ward_code,
                    site.lat,
                    site.lon,
                    capacity_m3=r.choice((6, 6, 10)),
                    daily_fill=daily,
                    empty_minute=r.randint(5 * 60 + 30, 10 * 60),
                    second_pickup=r.randint(14 * 60, 16 * 60) if daily > 1.0 else None,
                )
            )
        return out

    # ------------------------------------------------------------------ weather and water

    @staticmethod
    def _rain_hazard_per_h(hour: int) -> float:
        """Chance per hour that a dry spell turns to rain: convective tropical afternoons."""
        if 13 <= hour < 18:
            return 0.16
        if 18 <= hour < 24:
            return 0.05
        if 11 <= hour < 13:
            return 0.05
        return 0.02

    def _weather(self, t1: datetime, local: datetime, dt_h: float) -> None:
        if self._rain_until is not None and t1 >= self._rain_until:
            self._rain_mm_h, self._rain_until = 0.0, None
        if self._rain_mm_h > 0:
            return
        if self._rng.random() < 1 - math.exp(-self._rain_hazard_per_h(local.hour) * dt_h):
            r = self._rng.random()
            if r < 0.45:
                mm, minutes = self._rng.uniform(2, 8), self._rng.uniform(20, 120)
            elif r < 0.75:
                mm, minutes = self._rng.uniform(8, 20), self._rng.uniform(30, 120)
            else:
                mm, minutes = self._rng.uniform(20, 40), self._rng.uniform(40, 100)
            self._set_rain(mm, t1 + timedelta(minutes=minutes))

    def _set_rain(self, mm_per_h: float, until: datetime) -> None:
        """Start an episode; convective cells hit some stations harder than others."""
        self._rain_mm_h, self._rain_until = mm_per_h, until
        for st in self.stations:
            st.cell = self._rng.uniform(0.5, 1.4)

    def _rivers(self, dt_h: float) -> None:
        """Linear reservoir per station: exact solution for constant rain over the step."""
        rain = self._rain_mm_h
        for st in self.stations:
            decay = math.exp(-dt_h / st.tau_h)
            st.excess = st.excess * decay + st.gain * rain * st.rain_factor * st.cell * st.tau_h * (1 - decay)

    # ------------------------------------------------------------------ waste

    @staticmethod
    def _disposal_weight(hour: int) -> float:
        """Relative dumping rate by WIB hour; the official disposal window is 19:00-22:00."""
        if 19 <= hour < 22:
            return 2.5
        if 5 <= hour < 9:
            return 1.0
        if 9 <= hour < 19:
            return 0.6
        if 22 <= hour < 24:
            return 0.5
        return 0.2

    _DISPOSAL_DAY_SUM = 3 * 2.5 + 4 * 1.0 + 10 * 0.6 + 2 * 0.5 + 5 * 0.2

    def _fill_containers(self, local: datetime, dt_h: float) -> None:
        rate = self._disposal_weight(local.hour) / self._DISPOSAL_DAY_SUM * dt_h
        for c in self.containers:
            c.fill = min(1.0, c.fill + c.daily_fill * rate)

    def _next_pickup(self, c: _Container, after: datetime) -> datetime:
        local = after.astimezone(self.tz)
        day = local.replace(hour=0, minute=0, second=0, microsecond=0)
        minutes = sorted(m for m in (c.empty_minute, c.second_pickup) if m is not None)
        for d in range(3):
            for m in minutes:
                at = day + timedelta(days=d, minutes=m)
                if at > local:
                    return at.astimezone(UTC)
        raise AssertionError("unreachable")  # pragma: no cover

    def _pickups(self, t1: datetime) -> list[_Container]:
        """Trucks empty TPS at their pickup time; one in ten does not come (a broken truck).
        Returns the containers emptied, each with ``last_emptied`` set to when it happened."""
        emptied = []
        for c in self.containers:
            if c.next_pickup is None or c.next_pickup > t1:
                continue
            at = c.next_pickup
            if self._rng.random() < 0.9:
                c.fill = self._rng.uniform(0.02, 0.08)
                c.last_emptied = at
                c.status = "ok"
                emptied.append(c)
            c.next_pickup = self._next_pickup(c, at)
        return emptied
