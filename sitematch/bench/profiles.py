"""The three profiles ``make bench`` times: selective, full-measure and a realistic regional lead.

- ``selective`` (:data:`BENCH_PROFILE`): cheap attribute requirements (area, zoning, plan
  status) drop ~99.9 % of sites before any geometry is measured — it times the filter.
- ``full-measure`` (:data:`FULL_PROFILE`): no requirements; eight preferences, so every site is
  measured on every criterion — two line layers (motorway, rail), four point layers, grid
  capacity and the labour pool within a radius. A national scan of all land, or a lead with
  loose requirements: it times the engine.
- ``regional`` (:data:`REGIONAL_PROFILE`): a logistics lead as an adviser writes it — the SBA
  counties, loose attribute requirements, distance requirements, six preferences.
"""

from __future__ import annotations

#: A typical lead, touching every kind of criterion: attributes, point and line distances,
#: grid capacity within a radius, labour pool within a radius.
BENCH_PROFILE = """
name: Benchmark — typical logistics and light-manufacturing lead
requirements:
  min_area_ha: 10
  zoning: [J, Z]
  plan_status: [laga_kraft, antagen]
  max_distance_to_motorway_junction_m: 10000
  min_grid_capacity_mw: 10
  max_distance_to_rail_m: 5000
preferences:
  distance_to_motorway_junction_m: {weight: 4, full_at: 1000, zero_at: 10000}
  distance_to_rail_m: {weight: 2, full_at: 500, zero_at: 5000}
  distance_to_freight_terminal_m: {weight: 1, full_at: 2000, zero_at: 40000}
  distance_to_port_m: {weight: 1, full_at: 10000, zero_at: 150000}
  distance_to_airport_m: {weight: 1, full_at: 20000, zero_at: 150000}
  grid_capacity_mw: {weight: 2, zero_at: 10, full_at: 80}
  labour_pool_population: {weight: 2, zero_at: 20000, full_at: 400000}
  price_sek_m2: {weight: 1, full_at: 100, zero_at: 1500}
"""

#: Every site measured on eight criteria: nothing is filtered before the geometry.
FULL_PROFILE = """
name: Benchmark — full-measure national scan
preferences:
  distance_to_motorway_junction_m: {weight: 4, full_at: 2000, zero_at: 30000}
  distance_to_motorway_m: {weight: 1, full_at: 1000, zero_at: 20000}
  distance_to_rail_m: {weight: 2, full_at: 500, zero_at: 15000}
  distance_to_freight_terminal_m: {weight: 1, full_at: 5000, zero_at: 80000}
  distance_to_port_m: {weight: 1, full_at: 20000, zero_at: 250000}
  distance_to_airport_m: {weight: 1, full_at: 20000, zero_at: 150000}
  grid_capacity_mw: {weight: 2, zero_at: 5, full_at: 80}
  labour_pool_population: {weight: 2, zero_at: 10000, full_at: 500000}
"""

#: A logistics lead in the Stockholm Business Alliance's counties, as an adviser writes one.
REGIONAL_PROFILE = """
name: Benchmark — regional logistics lead (SBA counties)
region:
  counties: ["01", "03", "04", "05", "17", "18", "19", "20", "21"]
requirements:
  min_area_ha: 3
  zoning: [J, Z, T]
  max_distance_to_motorway_junction_m: 15000
  max_distance_to_port_m: 150000
preferences:
  distance_to_motorway_junction_m: {weight: 5, full_at: 1000, zero_at: 15000}
  distance_to_rail_m: {weight: 2, full_at: 500, zero_at: 10000}
  distance_to_freight_terminal_m: {weight: 2, full_at: 2000, zero_at: 30000}
  labour_pool_population: {weight: 3, zero_at: 30000, full_at: 400000}
  grid_capacity_mw: {weight: 1, zero_at: 2, full_at: 40}
  price_sek_m2: {weight: 1, full_at: 200, zero_at: 1200}
"""

#: Name → profile text, in the order the report lists them.
PROFILES = {"selective": BENCH_PROFILE, "full-measure": FULL_PROFILE, "regional": REGIONAL_PROFILE}
