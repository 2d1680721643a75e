"""A local stand-in for Meta's WhatsApp Cloud API: Graph API endpoints, signed webhooks, a chat page."""

from sevamitra.emulator.app import create_emulator
from sevamitra.emulator.config import EmulatorConfig
from sevamitra.emulator.emulator import Emulator

__all__ = ["Emulator", "EmulatorConfig", "create_emulator"]
