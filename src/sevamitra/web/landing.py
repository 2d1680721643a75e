"""The small landing page that `sevamitra serve` shows at `/`."""

from __future__ import annotations

from html import escape


def landing_page(public_url: str, emulator: bool) -> str:
    base = escape(public_url.rstrip("/"))
    emulator_link = (
        f'<li><a href="{base}/emulator/">WhatsApp emulator</a>: chat as a citizen, no Meta account needed</li>'
        if emulator
        else ""
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>Sevamitra</title>
<style>
body{{font-family:system-ui,"Noto Sans Telugu",sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem}}
</style>
</head><body>
<h1>Sevamitra · సేవామిత్ర</h1>
<p>Citizen services on WhatsApp.</p>
<ul>
{emulator_link}
<li>Webhook for Meta: <code>{base}/webhooks/whatsapp</code></li>
<li><a href="{base}/health">Health</a></li>
</ul>
</body></html>"""
