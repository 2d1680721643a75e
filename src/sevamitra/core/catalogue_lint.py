"""Cross-checks of a loaded catalogue: what the file schema alone cannot see."""

from __future__ import annotations

from collections import Counter

from sevamitra.core.catalogue import LANGUAGES, Catalogue, Service
from sevamitra.core.fees import FEE_RULES, rebate_problems
from sevamitra.core.fields import spec_problems
from sevamitra.core.registries import REGISTRIES
from sevamitra.core.roles import ROLES

COUNTABLE_TYPES = frozenset({"number"})


def catalogue_problems(catalogue: Catalogue) -> list[str]:
    """Every problem, as `service-id: message`; empty when the catalogue is sound."""
    problems = [p for s in catalogue.services for p in _service_problems(s)]
    for department in catalogue.departments:
        missing = [lang for lang in LANGUAGES if not department.names.get(lang)]
        if missing:
            problems.append(f"department {department.id}: no name in {', '.join(missing)}")
        if not catalogue.services_of(department.id):
            problems.append(f"department {department.id}: has no services")
    for code, count in Counter(s.code for s in catalogue.services).items():
        if count > 1:
            problems.append(f"service code {code} is used by {count} services")
    for code, count in Counter(d.code for d in catalogue.departments).items():
        if count > 1:
            problems.append(f"department code {code} is used by {count} departments")
    return problems


def _service_problems(service: Service) -> list[str]:
    found: list[str] = []
    say = found.append
    for what, texts in (("name", service.names), ("summary", service.summaries)):
        for lang in LANGUAGES:
            if not texts.get(lang, "").strip():
                say(f"no {what} in {lang}")
    if not service.id.startswith(f"{service.department_id}."):
        say(f"id must start with its department: {service.department_id}.")
    fee = service.fee
    if fee.kind == "fixed" and fee.amount_inr is None:
        say("a fixed fee needs amount_inr")
    if fee.kind == "per_unit":
        counted = service.form_field(fee.per_field or "")
        if counted is None or counted.type not in COUNTABLE_TYPES:
            say(f"a per-unit fee needs per_field naming a number field (got {fee.per_field!r})")
        if not fee.amount_inr or not all(fee.unit.get(lang) for lang in LANGUAGES):
            say("a per-unit fee needs amount_inr and its unit in te, en and hi")
    if fee.kind == "rule" and fee.rule not in FEE_RULES:
        say(f"unknown fee rule {fee.rule!r}; known: {', '.join(sorted(FEE_RULES))}")
    if fee.rule == "amount_entered":
        entered = service.form_field(fee.per_field or "")
        if entered is None or entered.type != "amount_inr":
            say(f"the amount_entered fee needs per_field naming an amount_inr field (got {fee.per_field!r})")
    found += rebate_problems(fee)
    delivery = service.delivery
    if delivery.kind == "instant" and delivery.registry not in REGISTRIES:
        say(f"an instant service needs a known registry (got {delivery.registry!r})")
    if delivery.kind == "reviewed":
        if not delivery.approvers:
            say("a reviewed service needs at least one approver role")
        for role in delivery.approvers:
            if role not in ROLES:
                say(f"unknown approver role {role!r}")
    for spec in service.fields:
        for option in spec.options:
            if option.authority is not None and option.authority not in delivery.approvers[1:]:
                say(f"field {spec.id}: option {option.id}'s authority must be a later approver of the service")
    if service.output.kind == "certificate" and not service.output.template:
        say("a certificate output needs a template")
    ids = [f.id for f in service.fields]
    for field_id, count in Counter(ids).items():
        if count > 1:
            say(f"field {field_id} appears {count} times")
    for spec in service.fields:
        found += [f"field {spec.id}: {p}" for p in spec_problems(spec)]
    for i, document in enumerate(service.documents):
        if not all(document.get(lang) for lang in LANGUAGES):
            say(f"document {i + 1} needs its name in te, en and hi")
    for topic, answer in service.faq.items():
        if not all(answer.get(lang) for lang in LANGUAGES):
            say(f"faq {topic} needs te, en and hi")
    return [f"{service.id}: {p}" for p in found]
