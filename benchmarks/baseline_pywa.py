"""The baseline of `sevamitra bench turns`: the same conversation, written the usual way for a pywa bot.

pywa 4.5 (its asyncio client) on FastAPI under uvicorn. Each citizen's place in the conversation is a
Python dict in this process's memory, and the replies go out from the webhook's own request (pywa runs
its handlers as the request's background task) to the Graph API at SEVAMITRA_GRAPH_API_URL. The
signature is checked with SEVAMITRA_WHATSAPP_APP_SECRET, as the platform does. It answers each
message with as many messages as the platform does (a read receipt with a typing indicator, then
texts, buttons and lists), and stores nothing durably: a restart forgets every conversation and
every application.

    pip install 'sevamitra[bench]'
    SEVAMITRA_GRAPH_API_URL=http://127.0.0.1:8001 python benchmarks/baseline_pywa.py --port 8003
"""

from __future__ import annotations

import argparse
import itertools
import os
import re
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI
from pywa_async import WhatsApp, filters, types

Update = types.Message | types.CallbackButton | types.CallbackSelection

GREETING = (
    "సేవామిత్రకు స్వాగతం: వాట్సాప్‌లో రాష్ట్ర పౌర సేవలు.\nగోప్యత: మీరు అడిగిన సేవలు అందించడానికి మాత్రమే మీ"
    " సందేశాలు, వివరాలు ఉంచుకుంటాము. మేము ఎప్పుడూ ఓటీపీ, పిన్ లేదా పాస్‌వర్డ్ అడగము."
)
LANGUAGES = [("lang:te", "తెలుగు"), ("lang:en", "English"), ("lang:hi", "हिन्दी")]
NOTICE = (
    "*Your data and your consent* (notice 1)\n\nTo give you the State's services here, Sevamitra keeps your WhatsApp"
    " number and name, your messages, the answers, documents, photos and locations you send for an application, and"
    " your payments.\n\nWe use them only to apply for services, track your applications, take payments and handle"
    ' grievances.\n\nYour rights: send "my data", "who saw my data", "withdraw" or "privacy".'
    '\n\nTap "I agree" to go on.'
)
DEPARTMENTS = [
    ("dept:revenue", "Revenue"), ("dept:civil-supplies", "Civil Supplies"), ("dept:social-welfare", "Social Welfare"),
    ("dept:health", "Health"), ("dept:housing", "Housing"), ("dept:labour", "Labour"),
    ("dept:municipal", "Municipal Administration"), ("dept:panchayat-raj", "Panchayat Raj"),
    ("dept:transport", "Transport"), ("dept:endowments", "Endowments"),
]  # fmt: skip
SERVICES = [
    ("svc:revenue.income-certificate", "Income certificate"), ("svc:revenue.caste-certificate", "Caste certificate"),
    ("svc:revenue.residence-certificate", "Residence certificate"), ("svc:revenue.ews-certificate", "EWS certificate"),
    ("svc:revenue.ebc-certificate", "EBC certificate"), ("svc:revenue.family-member", "Family member certificate"),
    ("svc:revenue.land-records", "Land records (1-B)"), ("svc:revenue.mutation", "Mutation of land"),
    ("svc:revenue.no-earnings", "No earnings certificate"),
]  # fmt: skip
PLACES = {
    "district": [("place:guntur", "Guntur"), ("place:krishna", "Krishna"), ("place:ntr", "NTR")],
    "mandal": [("place:guntur/chebrolu", "Chebrolu"), ("place:guntur/duggirala", "Duggirala")],
    "village": [("place:guntur/chebrolu/chebrolu", "Chebrolu"), ("place:guntur/chebrolu/vadlamudi", "Vadlamudi")],
}
PURPOSES = [
    ("answer:education", "Education or admission"), ("answer:scholarship", "Scholarship or fee"),
    ("answer:scheme", "A government scheme"), ("answer:employment", "Employment"), ("answer:loan", "Bank loan"),
    ("answer:other", "Other"),
]  # fmt: skip
# The income certificate's form: (key, question, kind, check); a "list" answer is one of PLACES or PURPOSES.
QUESTIONS = [
    ("name", "Please send the applicant's full name.", "text", r"\S.{1,99}"),
    ("aadhaar", "Please send your 12-digit Aadhaar number.", "text", r"[2-9]\d{11}"),
    ("father", "Father's or husband's name", "text", r"\S.{1,99}"),
    ("district", "Where do you live? Choose your district.", "list", "place:"),
    ("mandal", "Choose your mandal or town.", "list", "place:"),
    ("village", "Choose your village or ward.", "list", "place:"),
    ("income", "Annual family income", "text", r"\d{1,9}"),
    ("sources", "Sources of income\n1. Agriculture\n2. Salary\n3. Business\n4. Daily wages\n5. Other", "text", r".+"),
    ("purpose", "What is it for?", "list", "answer:"),
]  # fmt: skip
CHATS: dict[str, dict[str, Any]] = {}  # citizen id -> where the conversation stands and the answers so far
REFERENCES = itertools.count(1)


def rows(title: str, choices: list[tuple[str, str]]) -> types.SectionList:
    section = types.Section(title=title, rows=[types.SectionRow(title=t, callback_data=i) for i, t in choices])
    return types.SectionList(button_title="Choose", sections=[section])


async def ask(update: Update, number: int) -> None:
    key, question, kind, _ = QUESTIONS[number]
    text = f"Question {number + 1} of {len(QUESTIONS)}\n{question}"
    if kind == "list":
        await update.reply_text(text, buttons=rows(key.title(), PURPOSES if key == "purpose" else PLACES[key]))
    else:
        await update.reply_text(text)


async def converse(update: Update, said: str) -> None:
    await update.indicate_typing()
    chat = CHATS.setdefault(update.from_user.bsuid, {"step": "new"})
    step = chat["step"]
    if step == "new" or said.strip().lower() in ("hi", "menu"):
        await update.reply_text(GREETING)
        buttons = [types.Button(title=title, callback_data=id_) for id_, title in LANGUAGES]
        await update.reply_text("దయచేసి మీ భాషను ఎంచుకోండి.\nPlease choose your language.", buttons=buttons)
        chat["step"] = "language"
    elif step == "language" and said.startswith("lang:"):
        chat["language"] = said.removeprefix("lang:")
        consent = [
            types.Button(title="I agree", callback_data="privacy:accept:1"),
            types.Button(title="Not now", callback_data="privacy:decline"),
        ]
        await update.reply_text(NOTICE, buttons=consent)
        chat["step"] = "consent"
    elif step == "consent" and said.startswith("privacy:accept:"):
        await update.reply_text(
            'Thank you: your consent to notice 1 is recorded. Send "withdraw" at any time to withdraw it.'
        )
        departments = rows("Departments", DEPARTMENTS)
        await update.reply_text('Which department do you need? Tap "Departments" to choose.', buttons=departments)
        chat["step"] = "department"
    elif step == "department" and said.startswith("dept:"):
        await update.reply_text("Revenue: which service do you need?", buttons=rows("Services", SERVICES))
        chat["step"] = "service"
    elif step == "service" and "income" in said.lower():
        card = (
            "*Income certificate*\nAnnual family income, certified by the Tahsildar\n\nFee: ₹45\nTime: within 7 days"
            "\n\nKeep these ready:\n• Aadhaar card\n• Rice card (if any)\n• Income details (pay slip or declaration)"
        )
        choices = [("form:start", "Apply"), ("nav:back", "Back"), ("nav:menu", "Main menu")]
        await update.reply_text(card, buttons=[types.Button(title=t, callback_data=i) for i, t in choices])
        chat["step"] = "card"
    elif step == "card" and said == "form:start":
        await update.reply_text('Applying for Income certificate: 7 questions. Send "back" for the previous question.')
        chat.update(step="form", question=0, answers={})
        await ask(update, 0)
    elif step == "form":
        number = chat["question"]
        key, _, kind, check = QUESTIONS[number]
        if not (said.startswith(check) if kind == "list" else re.fullmatch(check, said.strip())):
            await update.reply_text(f"Sorry, that is not a valid answer.\n{QUESTIONS[number][1]}")
            return
        chat["answers"][key] = said.strip()
        if number + 1 < len(QUESTIONS):
            chat["question"] = number + 1
            await ask(update, number + 1)
            return
        answers = "\n".join(f"{n}. {k}: {v}" for n, (k, v) in enumerate(chat["answers"].items(), 1))
        choices = [("form:submit", "Submit"), ("form:edit", "Change an answer"), ("form:cancel", "Cancel")]
        review = f"Please check your application for Income certificate:\n{answers}\n\nFee: ₹45"
        await update.reply_text(review, buttons=[types.Button(title=t, callback_data=i) for i, t in choices])
        chat["step"] = "review"
    elif step == "review" and said == "form:submit":
        await update.reply_text("Submitting your application…")
        reference = f"AP-REV-INC-2026-{next(REFERENCES):06d}"
        chat.update(step="done", reference=reference)
        submitted = f"Your application for Income certificate is submitted.\nReference number: {reference}"
        choices = [("track:", "Track"), ("nav:menu", "Main menu")]
        await update.reply_text(submitted, buttons=[types.Button(title=t, callback_data=i) for i, t in choices])
        pay = types.URLButton(title="Pay ₹45", url=f"https://pay.example.org/{reference}")
        await update.reply_text(f"Please pay ₹45 for Income certificate ({reference}).", buttons=pay)
    else:
        await update.reply_text('Sorry, I did not understand. Send "menu" to start over.')


def create_app() -> FastAPI:
    app = FastAPI()
    graph = httpx.URL(os.environ.get("SEVAMITRA_GRAPH_API_URL", "https://graph.facebook.com"))

    async def to_graph(request: httpx.Request) -> None:  # pywa always calls graph.facebook.com
        request.url = request.url.copy_with(scheme=graph.scheme, host=graph.host, port=graph.port)

    wa = WhatsApp(
        phone_id=os.environ["SEVAMITRA_WHATSAPP_PHONE_NUMBER_ID"],
        token=os.environ["SEVAMITRA_WHATSAPP_ACCESS_TOKEN"],
        server=app,
        webhook_endpoint="/webhooks/whatsapp",
        verify_token=os.environ["SEVAMITRA_WHATSAPP_VERIFY_TOKEN"],
        app_secret=os.environ["SEVAMITRA_WHATSAPP_APP_SECRET"],
        session=httpx.AsyncClient(event_hooks={"request": [to_graph]}),
    )

    @wa.on_message(filters.text)
    async def on_text(_: WhatsApp, message: types.Message) -> None:
        await converse(message, message.text or "")

    @wa.on_callback_button
    async def on_button(_: WhatsApp, button: types.CallbackButton) -> None:
        await converse(button, str(button.data))

    @wa.on_callback_selection
    async def on_selection(_: WhatsApp, selection: types.CallbackSelection) -> None:
        await converse(selection, str(selection.data))

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description="The pywa baseline bot of `sevamitra bench turns`.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8003)
    args = parser.parse_args()
    uvicorn.run(create_app(), host=args.host, port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
