"""The registries instant services decide from; a department API can stand behind each one."""

from __future__ import annotations

REGISTRIES: frozenset[str] = frozenset(
    {
        "land_records",  # Adangal / ROR-1B / FMB extracts by survey number
        "property_tax",  # municipal and panchayat assessments and dues
        "water_connections",  # water-tap connections and their bills
        "electricity_consumers",  # DISCOM service numbers and bills
        "birth_records",  # registered births, for reprints
        "death_records",  # registered deaths, for reprints
        "rice_cards",  # civil supplies cards and members
        "traffic_challans",  # e-challans by vehicle number
        "bus_services",  # APSRTC services, seats and fares
        "temple_slots",  # darshan, seva and room slots
        "exam_results",  # SSC / Intermediate results and hall tickets
        "voter_roll",  # electoral roll entries by EPIC number
        "pensions",  # NTR Bharosa pension beneficiaries
        "scheme_rules",  # eligibility rules of welfare schemes
        "information",  # information services: the answer is the catalogue's own text
        "applications",  # status of applications already made
    }
)
