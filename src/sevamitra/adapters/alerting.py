"""Operators' alerts to an Alertmanager-compatible receiver: `POST <url>` with a JSON list of alerts
(`labels`, `annotations`, `startsAt`, and `endsAt` once resolved), as Prometheus Alertmanager's
`/api/v2/alerts` takes them; most alert routers accept the same. The sender logs every alert at
CRITICAL as well, so an operator without a receiver still sees it in the logs."""

from __future__ import annotations

import logging

import httpx

from sevamitra.core.ports import OperatorAlert

log = logging.getLogger(__name__)

LABELS = frozenset({"number"})  # details that tell one alert from another; the rest are annotations
ALERT_SECONDS = 5.0  # an alert receiver slower than this is given up (the alert is in the log)


class AlertmanagerAlerts:
    def __init__(self, http: httpx.AsyncClient, url: str, *, source: str) -> None:
        self._http = http
        self._url = url
        self._source = source  # who raises it: the public URL of the deployment

    async def raise_alert(self, alert: OperatorAlert) -> None:
        at = alert.at.isoformat()
        labels = {key: value for key, value in alert.details.items() if key in LABELS}
        notes = {key: value for key, value in alert.details.items() if key not in LABELS}
        item = {
            "labels": {"alertname": alert.name, "severity": "critical", "service": "sevamitra", **labels},
            "annotations": {**notes, "summary": alert.summary, "source": self._source},
            "startsAt": at,
            **({"endsAt": at} if alert.resolved else {}),
        }
        try:
            response = await self._http.post(self._url, json=[item], timeout=ALERT_SECONDS)
            response.raise_for_status()
        except httpx.HTTPError as error:  # the receiver down must not stop sending; the alert is logged
            log.error("the operators' alert %s could not be delivered: %s", alert.name, error)
