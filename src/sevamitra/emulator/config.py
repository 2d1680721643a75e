"""What the emulator pretends to be: one business phone number, its app secret and token, its webhook."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class EmulatorConfig:
    """Settings of the emulated WhatsApp Business account.

    `webhook_url` is where signed updates go (the platform's `/webhooks/whatsapp`); `app_secret`
    signs them; `access_token` is the bearer token the Graph API demands. `public_base_url`, when
    set, is the absolute URL of the emulator itself (media download links use it); otherwise links
    are built from each request. The timing fields let tests run Meta's behaviour fast.
    """

    webhook_url: str
    app_secret: str
    access_token: str
    phone_number_id: str = "106540352242922"
    display_phone_number: str = "919552300009"
    waba_id: str = "419561257915477"
    public_base_url: str = ""
    webhook_timeout: float = 10.0  # seconds for one delivery attempt
    webhook_retry_base: float = 0.5  # first redelivery delay; doubles after each failure
    webhook_retry_cap: float = 30.0  # the longest delay between two attempts
    webhook_max_attempts: int = 8  # then the update is given up (Meta keeps trying for days)
    delivered_after: float = 0.4  # seconds between the `sent` and `delivered` statuses
    typing_seconds: float = 25.0  # how long a typing indicator shows, as on a phone
