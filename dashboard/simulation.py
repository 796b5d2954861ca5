"""The config's city, handed to the simulator as plain data (``feeds`` never sees pydantic).

``citywall demo`` must simulate the city the config describes, not the reference city: its
districts, its gauges and TPS, its MPP tenants and targets, its KPIs and its complaint apps.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from dashboard.config import WEEKDAYS, Config, DrainageLevels
from feeds.city import AgencySpec, Channel, CityProfile, MessageKpi, MppHours, Place, StationSite, WasteSite, mqtt_topic_for


def city_profile(config: Config) -> CityProfile:
    """Translate the config into the simulator's ``CityProfile``; district names in the
    config are matched to the GeoJSON's spelling."""
    from feeds.geo import Districts

    districts = Districts.load(config.districts_path())
    sim = config.simulation
    language = config.city.language

    def district(name: str) -> str:
        return districts.match(name) or name

    agencies = config.mpp.agencies if isinstance(config.mpp.agencies, list) else []
    texts = sim.kpis
    return CityProfile(
        slug=config.city.slug,
        name=config.city.name,
        districts=districts,
        timezone=config.city.timezone,
        language=config.city.language,
        region=sim.region,
        organization=sim.organization,
        places={district(n): Place(p.population_k, tuple(p.streets), p.central, p.peri_urban) for n, p in sim.places.items()},
        stations=tuple(
            StationSite(s.code, s.name, s.kelurahan or district(s.district), district(s.district), s.lat, s.lon, s.river)
            for s in sim.stations
        ),
        waste_sites=tuple(
            WasteSite("", w.name, w.kelurahan or district(w.district), district(w.district), w.ward_code, w.lat, w.lon)
            for w in sim.waste_sites
        ),
        agencies=tuple(
            AgencySpec(a.slug, a.office, a.service, a.share, a.counters, a.base_wait_min, a.service_min) for a in agencies
        ),
        agency_count=config.mpp.agency_count,
        mpp_name=config.mpp.name,
        mpp_location=config.mpp.location,
        mpp_target_normal=config.mpp.permits_per_day,
        mpp_target_busy=config.mpp.permits_busy_day,
        busy_weekdays=frozenset(WEEKDAYS.index(d) for d in config.mpp.busy_weekdays),
        mpp_hours=MppHours(
            config.mpp.opens.hour * 60 + config.mpp.opens.minute,
            config.mpp.closes.hour * 60 + config.mpp.closes.minute,
            frozenset(WEEKDAYS.index(d) for d in config.mpp.open_weekdays),
            frozenset(config.mpp.closed_dates),
        ),
        kpis=tuple(
            MessageKpi(
                kpi.id,
                kpi.name.get(language) or next(iter(kpi.name.values())),
                kpi.target,
                kpi.unit,
                kpi.better,
                texts[kpi.id].description if kpi.id in texts else "",
                texts[kpi.id].provider if kpi.id in texts else "",
            )
            for _, kpi in config.kpis()
            if kpi.source == "message"
        ),
        channels=tuple(
            Channel(c.id, c.name, mqtt_topic_for(c.topics), tuple(c.categories.items())) for c in config.complaints if c.topics
        ),
        vehicles=tuple(sim.vehicles),
        destinations=tuple(sim.destinations),
        sources=dict(sim.sources),
        drainage_provider=sim.drainage_provider,
        drainage_levels=_levels(config.thresholds.drainage),
        station_levels={code: _levels(levels) for code, levels in config.thresholds.drainage_stations.items()},
    )


def _levels(levels: DrainageLevels) -> tuple[float, float, float]:
    return (levels.waspada, levels.siaga, levels.awas)


def simulator_for(config: Config, rng_seed: int | None = None, clock: Callable[[], datetime] | None = None) -> Any:
    """A ``CitySimulator`` of the config's city."""
    from feeds.sim_catalog import utc_now
    from feeds.simulator import CitySimulator

    return CitySimulator(city_profile(config), rng_seed=rng_seed, clock=clock or utc_now)
