"""`sevamitra catalogue lint | export`: check the catalogue files, or print them as one JSON document."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from sevamitra.bootstrap import catalogue_problems, flow_json, flow_problems, load_texts, read_catalogue
from sevamitra.core.catalogue import Catalogue, Service


def lint(root: Path) -> int:
    catalogue, file_problems = read_catalogue(root)
    problems = [str(p) for p in file_problems]
    if catalogue is not None:
        problems += catalogue_problems(catalogue)
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        print(f"catalogue lint: {len(problems)} problem(s)", file=sys.stderr)
        return 1
    assert catalogue is not None
    print(
        f"catalogue lint: {len(catalogue.services)} services in {len(catalogue.departments)} departments, no problems"
    )
    return 0


def export(root: Path) -> int:
    catalogue, problems = read_catalogue(root)
    if catalogue is None:
        for problem in problems:
            print(problem, file=sys.stderr)
        return 1
    json.dump(catalogue_document(catalogue), sys.stdout, ensure_ascii=False, indent=1)
    print()
    return 0


def flows(root: Path, out: Path, languages: tuple[str, ...] = ("te", "en", "hi")) -> int:
    """Every service's form as WhatsApp Flow JSON: `<out>/<service-id>.<lang>.json`."""
    catalogue, problems = read_catalogue(root)
    if catalogue is None:
        for problem in problems:
            print(problem, file=sys.stderr)
        return 1
    texts = load_texts(root)
    out.mkdir(parents=True, exist_ok=True)
    broken = 0
    for service in catalogue.services:
        for language in languages:
            flow = flow_json(service, language, texts)
            for flaw in flow_problems(flow):
                broken += 1
                print(f"{service.id} ({language}): {flaw}", file=sys.stderr)
            path = out / f"{service.id}.{language}.json"
            path.write_text(json.dumps(flow, ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"{len(catalogue.services) * len(languages)} flows written to {out}, {broken} problem(s)")
    return 1 if broken else 0


def catalogue_document(catalogue: Catalogue) -> dict[str, Any]:
    return {
        "departments": [
            {"id": d.id, "code": d.code, "names": dict(d.names), "services": len(catalogue.services_of(d.id))}
            for d in catalogue.departments
        ],
        "services": [_service(s) for s in catalogue.services],
    }


def _service(s: Service) -> dict[str, Any]:
    return {
        "id": s.id,
        "code": s.code,
        "version": s.version,
        "department": s.department_id,
        "names": dict(s.names),
        "summary": dict(s.summaries),
        "jurisdiction": s.jurisdiction,
        "fee": {
            "kind": s.fee.kind,
            "amount_inr": s.fee.amount_inr,
            "unit": dict(s.fee.unit) or None,
            "per_field": s.fee.per_field,
            "rule": s.fee.rule,
        },
        "sla": {"days": s.sla.days, "minutes": s.sla.minutes},
        "delivery": {
            "class": s.delivery.kind,
            "approvers": list(s.delivery.approvers),
            "registry": s.delivery.registry,
        },
        "output": {"kind": s.output.kind, "template": s.output.template, "validity_months": s.output.validity_months},
        "fields": [
            {
                "id": f.id,
                "type": f.type,
                "required": f.required,
                "label": dict(f.labels) or None,
                "options": [{"id": o.id, **o.labels} for o in f.options] or None,
            }
            for f in s.fields
        ],
        "documents": [dict(d) for d in s.documents],
        "definition_hash": s.definition_hash,
        "source": s.source,
    }
