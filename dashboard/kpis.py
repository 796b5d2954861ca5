"""KPIs the store can derive from the streams, by id.

A KPI in ``config.yaml`` with ``source: derived`` names one of these; the config model
refuses any other name so a typo is caught at start-up, not on the mayor's tablet. The
functions that compute them live in ``dashboard.picture``; this module only names them so
that the config can be checked without loading the store.
"""

DERIVED_KPIS: dict[str, str] = {
    "incidents_within_sla": "share of incidents resolved in the last 24 h within their severity's SLA (%)",
    "open_incidents": "incidents not yet resolved (count)",
    "traffic_incidents_open": "open incidents of category traffic (count)",
    "mpp_target_attainment": "MPP permits served today against today's target (%)",
    "mpp_avg_wait_min": "average waiting time over MPP agencies now (minutes)",
    "waste_reports_resolved_24h": "share of waste reports resolved within the SLA (%)",
    "tps_over_threshold": "waste containers above the full threshold (count)",
    "drainage_stations_in_alert": "drainage stations at Waspada or above (count)",
    "citizen_reports_open": "open citizen reports, drainage and waste (count)",
}
