"""The officers who decide applications, by role, as the catalogue's approver chains name them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

ROLES: frozenset[str] = frozenset(
    {
        # village and ward secretariats
        "digital_assistant",
        "ward_admin_secretary",
        "panchayat_secretary",
        "welfare_assistant",
        "village_revenue_officer",
        "ward_revenue_secretary",
        "village_agriculture_assistant",
        "ward_planning_secretary",
        "ward_sanitation_secretary",
        "ward_amenities_secretary",
        "ward_welfare_secretary",
        "mahila_police",
        # revenue
        "revenue_inspector",
        "deputy_tahsildar",
        "tahsildar",
        "revenue_divisional_officer",
        "joint_collector",
        "district_collector",
        "sub_registrar",
        "district_registrar",
        "survey_officer",
        # municipal and rural local bodies
        "municipal_commissioner",
        "assistant_commissioner",
        "revenue_officer_municipal",
        "town_planning_officer",
        "sanitary_inspector",
        "municipal_health_officer",
        "assistant_engineer",
        "executive_engineer",
        "registrar_births_deaths",
        "mandal_parishad_development_officer",
        "district_panchayat_officer",
        # energy
        "assistant_engineer_electrical",
        "assistant_divisional_engineer",
        "divisional_engineer",
        "superintending_engineer",
        # civil supplies, welfare, health
        "civil_supplies_deputy_tahsildar",
        "district_supply_officer",
        "mandal_welfare_officer",
        "district_welfare_officer",
        "medical_officer",
        "aarogyasri_coordinator",
        "cmrf_section_officer",
        "district_medical_officer",
        # police
        "station_house_officer",
        "sub_divisional_police_officer",
        "superintendent_of_police",
        "district_fire_officer",
        "regional_transport_officer",
        "motor_vehicle_inspector",
        # endowments, transport, education, agriculture, industry, labour, elections
        "temple_executive_officer",
        "depot_manager",
        "district_educational_officer",
        "board_secretary",
        "mandal_agriculture_officer",
        "assistant_director_agriculture",
        "joint_director_agriculture",
        "horticulture_officer",
        "veterinary_assistant_surgeon",
        "fisheries_development_officer",
        "zonal_manager_apiic",
        "assistant_labour_officer",
        "deputy_commissioner_labour",
        "electoral_registration_officer",
        "booth_level_officer",
        "district_tribal_welfare_officer",
        "district_bc_welfare_officer",
        "district_minority_welfare_officer",
        "housing_assistant_engineer",
        "mines_assistant_director",
        "forest_range_officer",
        "grievance_officer",
    }
)

# Where each role sits: a village or ward secretariat, a mandal or urban local body, a district
# (revenue divisions and department circles count as the district), or the state.
Level = Literal["secretariat", "mandal", "district", "state"]
LEVELS: tuple[Level, ...] = ("secretariat", "mandal", "district", "state")

_SECRETARIAT = frozenset(
    {
        "digital_assistant",
        "ward_admin_secretary",
        "panchayat_secretary",
        "welfare_assistant",
        "village_revenue_officer",
        "ward_revenue_secretary",
        "village_agriculture_assistant",
        "ward_planning_secretary",
        "ward_sanitation_secretary",
        "ward_amenities_secretary",
        "ward_welfare_secretary",
        "mahila_police",
        "booth_level_officer",
    }
)
_DISTRICT = frozenset(
    {
        "revenue_divisional_officer",
        "joint_collector",
        "district_collector",
        "district_registrar",
        "executive_engineer",
        "district_panchayat_officer",
        "divisional_engineer",
        "superintending_engineer",
        "district_supply_officer",
        "district_welfare_officer",
        "aarogyasri_coordinator",
        "district_medical_officer",
        "sub_divisional_police_officer",
        "superintendent_of_police",
        "district_fire_officer",
        "regional_transport_officer",
        "district_educational_officer",
        "assistant_director_agriculture",
        "joint_director_agriculture",
        "zonal_manager_apiic",
        "deputy_commissioner_labour",
        "district_tribal_welfare_officer",
        "district_bc_welfare_officer",
        "district_minority_welfare_officer",
        "mines_assistant_director",
        "grievance_officer",
    }
)
_STATE = frozenset({"board_secretary", "cmrf_section_officer"})

# Administrators: they see (never decide) what their scope holds, and manage officers.
ADMIN_ROLES: frozenset[str] = frozenset({"department_admin", "district_admin", "state_admin"})

# Who a case goes to when the last officer of its chain lets the SLA pass: the officer above.
SUPERVISOR: Mapping[Level, str] = {
    "secretariat": "mandal_parishad_development_officer",
    "mandal": "revenue_divisional_officer",
    "district": "district_collector",
    "state": "state_admin",
}


def level_of(role: str) -> Level:
    """Where an officer of `role` sits; administrators by their name."""
    if role in _SECRETARIAT:
        return "secretariat"
    if role in _DISTRICT or role == "district_admin":
        return "district"
    if role in _STATE or role in ("state_admin", "department_admin"):
        return "state"
    return "mandal"
