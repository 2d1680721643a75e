// The emulator's chat page: simulated citizens chatting with the platform, WhatsApp-style.
// Plain DOM, no build step. Every URL is relative, so the page works wherever the emulator is mounted.
"use strict";

(() => {
  const POLL_MS = 700;
  const CITIZENS_MS = 2500;

  const $ = (id) => document.getElementById(id);
  const state = {
    current: null, // wa_id of the open chat
    lastSeq: 0,
    readUpTo: 0,
    entries: new Map(), // message id -> entry
    bubbles: new Map(), // message id -> bubble element
    lastDay: "",
    polling: false,
  };

  // ------------------------------------------------------------ helpers

  async function api(path, options = {}) {
    const response = await fetch("./_chat/" + path, options);
    const data = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(data.error || `HTTP ${response.status}`);
    return data;
  }

  const postJson = (path, body) =>
    api(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });

  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs)) {
      if (value === undefined || value === null || value === false) continue;
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : value);
    }
    for (const child of children) {
      if (child !== null && child !== undefined) node.append(child);
    }
    return node;
  }

  function toast(text) {
    const node = $("toast");
    node.textContent = text;
    node.hidden = false;
    clearTimeout(toast.timer);
    toast.timer = setTimeout(() => (node.hidden = true), 3500);
  }

  const safeUrl = (url) => (typeof url === "string" && /^https?:\/\//i.test(url) ? url : null);
  const mediaUrl = (media) => (media && media.id ? "./_chat/media/" + encodeURIComponent(media.id) : safeUrl(media && media.link));
  const clock = (ts) => new Date(ts * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  const day = (ts) => new Date(ts * 1000).toLocaleDateString([], { day: "numeric", month: "long", year: "numeric" });

  function initials(name) {
    const words = (name || "?").trim().split(/\s+/);
    return Array.from(words[0] || "?")[0] + (words.length > 1 ? Array.from(words[words.length - 1])[0] : "");
  }

  function avatar(node, citizen) {
    let hash = 0;
    for (const ch of citizen.wa_id) hash = (hash * 31 + ch.charCodeAt(0)) % 360;
    node.textContent = initials(citizen.name).toUpperCase();
    node.style.background = `hsl(${hash} 45% 52%)`;
  }

  // WhatsApp's formatting (*bold*, _italic_, ~strike~, ```mono```) and links, built as DOM nodes, never HTML.
  function formatted(text) {
    const fragment = document.createDocumentFragment();
    const pattern = /```([\s\S]+?)```|\*([^*\n]+)\*|_([^_\n]+)_|~([^~\n]+)~|(https?:\/\/[^\s<>"]+)/g;
    let at = 0;
    for (const match of text.matchAll(pattern)) {
      fragment.append(text.slice(at, match.index));
      if (match[1] !== undefined) fragment.append(el("code", { text: match[1] }));
      else if (match[2] !== undefined) fragment.append(el("strong", { text: match[2] }));
      else if (match[3] !== undefined) fragment.append(el("em", { text: match[3] }));
      else if (match[4] !== undefined) fragment.append(el("s", { text: match[4] }));
      else fragment.append(el("a", { href: match[5], target: "_blank", rel: "noopener noreferrer", text: match[5] }));
      at = match.index + match[0].length;
    }
    fragment.append(text.slice(at));
    return fragment;
  }

  // ------------------------------------------------------------ citizens

  async function loadInfo() {
    try {
      const info = await api("info");
      $("business").textContent = "Business +" + info.display_phone_number;
    } catch (error) {
      toast("Emulator not reachable: " + error.message);
    }
  }

  async function refreshCitizens() {
    let data;
    try {
      data = await api("citizens");
    } catch {
      return;
    }
    const list = $("citizens");
    list.replaceChildren(
      ...data.citizens.map((citizen) => {
        const face = el("div", { class: "avatar", "aria-hidden": "true" });
        avatar(face, citizen);
        return el(
          "li",
          {
            class: "citizen" + (citizen.wa_id === state.current ? " active" : ""),
            "data-testid": "citizen-item",
            "data-wa-id": citizen.wa_id,
            title: "+" + citizen.wa_id,
            onclick: () => openChat(citizen.wa_id),
          },
          face,
          el(
            "div",
            { class: "who" },
            el(
              "div",
              { class: "top" },
              el("span", { class: "name", "data-testid": "citizen-name", text: citizen.name }),
              el("span", { class: "time", text: citizen.last_timestamp ? clock(citizen.last_timestamp) : "" }),
            ),
            el("div", { class: "preview", text: citizen.last_preview || "+" + citizen.wa_id }),
          ),
        );
      }),
    );
    $("no-citizens").hidden = data.citizens.length > 0;
    return data.citizens;
  }

  async function addCitizen(event) {
    event.preventDefault();
    const name = $("new-citizen-name").value.trim();
    const number = $("new-citizen-number").value.trim();
    const error = $("new-citizen-error");
    error.hidden = true;
    try {
      const data = await postJson("citizens", number ? { name, wa_id: number } : { name });
      $("new-citizen-form").reset();
      $("new-citizen-form").hidden = true;
      await refreshCitizens();
      openChat(data.citizen.wa_id);
    } catch (failure) {
      error.textContent = failure.message;
      error.hidden = false;
    }
  }

  // ------------------------------------------------------------ the open chat

  function openChat(wa_id) {
    if (state.current !== wa_id) {
      state.current = wa_id;
      state.lastSeq = 0;
      state.readUpTo = 0;
      state.lastDay = "";
      state.entries.clear();
      state.bubbles.clear();
      $("messages").replaceChildren();
      $("chat-name").textContent = "+" + wa_id;
      $("chat-status").textContent = "";
    }
    if (location.hash !== "#" + wa_id) history.replaceState(null, "", "#" + wa_id);
    $("placeholder").hidden = true;
    for (const id of ["chat-bar", "messages", "composer"]) $(id).hidden = false;
    $("app").classList.add("chatting");
    for (const item of document.querySelectorAll(".citizen")) {
      item.classList.toggle("active", item.dataset.waId === wa_id);
    }
    poll();
    $("composer-input").focus();
  }

  async function poll() {
    const wa_id = state.current;
    if (!wa_id || state.polling) return;
    state.polling = true;
    try {
      const data = await api(`${encodeURIComponent(wa_id)}/messages?after=${state.lastSeq}`);
      if (wa_id !== state.current) return;
      $("chat-name").textContent = data.citizen.name;
      avatar($("chat-avatar"), data.citizen);
      const box = $("messages");
      const nearBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 80;
      for (const entry of data.messages) {
        if (entry.seq <= state.lastSeq) continue;
        state.entries.set(entry.id, entry);
        append(entry);
        state.lastSeq = entry.seq;
      }
      for (const [id, status] of Object.entries(data.statuses)) updateStatus(id, status);
      $("chat-status").textContent = data.typing ? "typing…" : "+" + data.citizen.wa_id;
      $("chat-status").classList.toggle("typing", data.typing);
      if (data.messages.length && (nearBottom || data.messages.some((e) => e.direction === "in"))) {
        box.scrollTop = box.scrollHeight;
      }
      markRead();
    } catch (error) {
      if (String(error.message).includes("no such citizen")) state.current = null;
    } finally {
      state.polling = false;
    }
  }

  // The citizen has seen the platform's messages once the page shows them: Meta then reports `read`.
  async function markRead() {
    if (!state.current || document.visibilityState !== "visible") return;
    const unseen = [...state.entries.values()].filter((e) => e.direction === "out" && e.seq > state.readUpTo);
    if (!unseen.length) return;
    const upTo = state.lastSeq;
    try {
      await postJson(`${encodeURIComponent(state.current)}/read`, { up_to: upTo });
      state.readUpTo = Math.max(state.readUpTo, upTo);
    } catch {
      // the next poll tries again
    }
  }

  function append(entry) {
    const box = $("messages");
    const today = day(entry.timestamp);
    if (today !== state.lastDay) {
      box.append(el("div", { class: "day", text: today }));
      state.lastDay = today;
    }
    box.append(entry.direction === "in" ? citizenMessage(entry) : platformMessage(entry));
  }

  function updateStatus(id, status) {
    const bubble = state.bubbles.get(id);
    if (!bubble || bubble.dataset.status === status) return;
    bubble.dataset.status = status;
    const ticks = bubble.querySelector(".ticks");
    if (ticks) setTicks(ticks, status);
  }

  function setTicks(node, status) {
    const marks = { accepted: "🕓", sent: "✓", delivered: "✓✓", read: "✓✓", failed: "!" };
    node.textContent = marks[status] || "";
    node.className = "ticks" + (status === "read" ? " read" : status === "failed" ? " failed" : "");
    node.title = status;
  }

  function bubble(entry, from, type, ...content) {
    const ticks = el("span", { class: "ticks", "data-testid": "ticks" });
    setTicks(ticks, entry.status);
    const node = el(
      "div",
      {
        class: "bubble",
        "data-testid": "bubble",
        "data-direction": entry.direction,
        "data-from": from,
        "data-type": type,
        "data-message-id": entry.id,
        "data-seq": String(entry.seq),
        "data-status": entry.status,
      },
      ...content,
      el("span", { class: "meta" }, el("span", { text: clock(entry.timestamp) }), ticks),
    );
    state.bubbles.set(entry.id, node);
    return node;
  }

  function quote(contextId) {
    const quoted = contextId && state.entries.get(contextId);
    return quoted ? el("div", { class: "quoted", "data-testid": "quoted", text: summary(quoted) }) : null;
  }

  function summary(entry) {
    if (entry.direction === "out") {
      const body = entry.body || {};
      const content = body[body.type || "text"] || {};
      return content.body?.text ?? content.body ?? content.caption ?? content.filename ?? body.type;
    }
    const message = entry.message || {};
    const content = message[message.type] || {};
    return content.body ?? content[content.type]?.title ?? content.caption ?? content.filename ?? message.type;
  }

  // ------------------------------------------------------------ the citizen's own messages (right, green)

  function citizenMessage(entry) {
    const message = entry.message;
    const content = message[message.type] || {};
    const parts = [quote(message.context && message.context.id)];
    switch (message.type) {
      case "text":
        parts.push(formatted(content.body));
        break;
      case "interactive": {
        const reply = content[content.type] || {};
        parts.push(el("span", { text: reply.title }));
        if (reply.description) parts.push(el("div", { class: "footer", text: reply.description }));
        break;
      }
      case "location":
        parts.push(locationCard(content));
        break;
      case "image":
        parts.push(el("img", { src: mediaUrl(content), alt: content.caption || "photo", "data-testid": "image" }));
        if (content.caption) parts.push(formatted(content.caption));
        break;
      case "document":
        parts.push(fileCard(content.filename, mediaUrl(content)));
        if (content.caption) parts.push(formatted(content.caption));
        break;
      case "audio":
      case "video":
        parts.push(el(message.type, { src: mediaUrl(content), controls: true, preload: "none" }));
        if (content.voice) parts.push(el("span", { class: "note", text: "🎤 voice note" }));
        break;
      default:
        parts.push(el("span", { class: "note", text: message.type }));
    }
    const redeliver = el("button", {
      class: "tool",
      type: "button",
      "data-testid": "redeliver",
      title: "Deliver this update to the platform again, as Meta sometimes does",
      text: "↻ redeliver",
      onclick: () => redeliverMessage(entry.id),
    });
    return el(
      "div",
      { class: "message from-citizen", "data-testid": "message" },
      bubble(entry, "citizen", message.type, ...parts),
      redeliver,
    );
  }

  // ------------------------------------------------------------ the platform's messages (left, white)

  function platformMessage(entry) {
    const body = entry.body || {};
    const type = body.type || "text";
    const content = body[type] || {};
    const parts = [quote(body.context && body.context.message_id)];
    let actions = null;
    let subtype = type;
    switch (type) {
      case "text":
        parts.push(formatted(content.body || ""));
        break;
      case "interactive":
        subtype = "interactive-" + content.type;
        parts.push(...interactiveParts(content));
        actions = interactiveActions(entry, content);
        break;
      case "image":
        parts.push(el("img", { src: mediaUrl(content), alt: content.caption || "image", "data-testid": "image" }));
        if (content.caption) parts.push(formatted(content.caption));
        break;
      case "document":
        parts.push(fileCard(content.filename || "document", mediaUrl(content)));
        if (content.caption) parts.push(formatted(content.caption));
        break;
      case "audio":
      case "video":
        parts.push(el(type, { src: mediaUrl(content), controls: true, preload: "none" }));
        if (content.caption) parts.push(formatted(content.caption));
        break;
      case "location":
        parts.push(locationCard(content));
        break;
      case "template":
        parts.push(...templateParts(content));
        break;
      case "reaction":
        parts.push(el("span", { text: `${content.emoji || ""} reacted to a message` }));
        break;
      default:
        parts.push(el("span", { class: "note", text: `(${type} message)` }));
    }
    for (const error of entry.errors || []) {
      parts.push(el("div", { class: "error-note", "data-testid": "error-note", text: `Not delivered: ${error.title} (${error.code})` }));
    }
    return el(
      "div",
      { class: "message from-platform", "data-testid": "message" },
      bubble(entry, "platform", subtype, ...parts),
      actions,
    );
  }

  function interactiveParts(it) {
    const parts = [];
    const header = it.header || {};
    if (header.type === "text" && header.text) parts.push(el("div", { class: "header", text: header.text }));
    else if (["image", "document", "video"].includes(header.type)) {
      const media = header[header.type] || {};
      parts.push(
        header.type === "image"
          ? el("img", { src: mediaUrl(media), alt: "header", "data-testid": "image" })
          : fileCard(media.filename || header.type, mediaUrl(media)),
      );
    }
    if (it.body && it.body.text) parts.push(formatted(it.body.text));
    if (it.footer && it.footer.text) parts.push(el("div", { class: "footer", text: it.footer.text }));
    return parts;
  }

  function interactiveActions(entry, it) {
    const action = it.action || {};
    const box = el("div", { class: "actions" });
    if (it.type === "button") {
      for (const button of action.buttons || []) {
        const reply = button.reply || {};
        box.append(
          el("button", {
            class: "action",
            type: "button",
            "data-testid": "reply-button",
            "data-id": reply.id,
            text: reply.title,
            onclick: () => send({ type: "button_reply", id: reply.id, title: reply.title, context_id: entry.id }),
          }),
        );
      }
    } else if (it.type === "list") {
      box.append(
        el(
          "button",
          { class: "action", type: "button", "data-testid": "list-open", onclick: () => openSheet(entry, action) },
          el("span", { class: "glyph", text: "☰" }),
          action.button || "Choose",
        ),
      );
    } else if (it.type === "cta_url") {
      const params = action.parameters || {};
      box.append(
        el(
          "a",
          { class: "action", "data-testid": "cta-link", href: safeUrl(params.url) || "#", target: "_blank", rel: "noopener noreferrer" },
          el("span", { class: "glyph", text: "↗" }),
          params.display_text || params.url,
        ),
      );
    } else if (it.type === "order_details") {
      const params = action.parameters || {};
      const total = params.total_amount || {};
      const amount = `₹${((total.value || 0) / (total.offset || 100)).toFixed(2)}`;
      box.append(
        el("button", { class: "action", type: "button", "data-testid": "order-pay", text: `Pay ${amount}`, onclick: () => pay(entry, "paid") }),
        el("button", { class: "action", type: "button", "data-testid": "order-fail", text: "Fail", onclick: () => pay(entry, "failed") }),
      );
    } else if (it.type === "location_request_message") {
      box.append(el("button", { class: "action", type: "button", "data-testid": "location-request", text: "📍 Send location", onclick: showLocationForm }));
    } else {
      box.append(el("button", { class: "action", type: "button", disabled: true, text: `${it.type} (not emulated)` }));
    }
    return box;
  }

  function templateParts(template) {
    const parts = [el("div", { class: "header", text: `📋 ${template.name} (${(template.language || {}).code || ""})` })];
    for (const component of template.components || []) {
      const values = (component.parameters || []).map((p) => p.text ?? p[p.type]?.filename ?? p[p.type]?.link ?? p.type);
      if (values.length) parts.push(el("div", { text: `${component.type}: ${values.join(" · ")}` }));
    }
    return parts;
  }

  function fileCard(filename, url) {
    return el(
      "a",
      { class: "file-card", "data-testid": "document-card", href: url || "#", download: filename || true, target: "_blank", rel: "noopener" },
      el("span", { class: "icon", text: "📄" }),
      el("span", { class: "name", "data-testid": "document-link", text: filename || "document" }),
      el("span", { class: "download", text: "⤓" }),
    );
  }

  function locationCard(location) {
    const where = `${location.latitude},${location.longitude}`;
    return el(
      "a",
      {
        class: "location-card",
        "data-testid": "location-card",
        href: `https://www.openstreetmap.org/?mlat=${location.latitude}&mlon=${location.longitude}#map=16/${location.latitude}/${location.longitude}`,
        target: "_blank",
        rel: "noopener noreferrer",
      },
      el("div", { class: "map", text: "📍" }),
      el("strong", { text: location.name || where }),
      location.address ? el("div", { class: "footer", text: location.address }) : null,
    );
  }

  // ------------------------------------------------------------ the list sheet

  function openSheet(entry, action) {
    $("sheet-title").textContent = action.button || "Choose";
    const body = $("sheet-body");
    body.replaceChildren();
    for (const section of action.sections || []) {
      if (section.title) body.append(el("div", { class: "sheet-section", text: section.title }));
      for (const row of section.rows || []) {
        body.append(
          el(
            "button",
            {
              class: "list-row",
              type: "button",
              "data-testid": "list-row",
              "data-id": row.id,
              onclick: () => {
                closeSheet();
                send({ type: "list_reply", id: row.id, title: row.title, description: row.description, context_id: entry.id });
              },
            },
            el("span", { class: "title", text: row.title }),
            row.description ? el("span", { class: "description", text: row.description }) : null,
          ),
        );
      }
    }
    $("sheet").hidden = false;
  }

  function closeSheet() {
    $("sheet").hidden = true;
  }

  // ------------------------------------------------------------ sending

  async function send(payload) {
    if (!state.current) return;
    try {
      await postJson(`${encodeURIComponent(state.current)}/send`, payload);
      await poll();
    } catch (error) {
      toast("Not sent: " + error.message);
    }
  }

  // Meta's side of an order: the citizen pays in WhatsApp, and a signed payment status goes to the platform.
  async function pay(entry, outcome) {
    try {
      await postJson(`${encodeURIComponent(state.current)}/pay/${encodeURIComponent(entry.id)}`, { outcome });
      toast(outcome === "paid" ? "Paid: the payment status is on its way" : "Payment failed: the status is on its way");
    } catch (error) {
      toast("Not paid: " + error.message);
    }
  }

  async function sendText(event) {
    event.preventDefault();
    const input = $("composer-input");
    const text = input.value;
    if (!text.trim()) return;
    input.value = "";
    autosize();
    await send({ type: "text", text });
  }

  async function sendFile(kind, file, voice) {
    if (!state.current || !file) return;
    const form = new FormData();
    form.append("type", kind);
    form.append("file", file, file.name);
    if (voice) form.append("voice", "true");
    const caption = $("composer-input").value.trim();
    if (caption && kind !== "audio") {
      form.append("caption", caption);
      $("composer-input").value = "";
    }
    try {
      await api(`${encodeURIComponent(state.current)}/send`, { method: "POST", body: form });
      await poll();
    } catch (error) {
      toast("Not sent: " + error.message);
    }
  }

  async function sendLocation(event) {
    event.preventDefault();
    const latitude = Number.parseFloat($("location-lat").value);
    const longitude = Number.parseFloat($("location-long").value);
    if (!Number.isFinite(latitude) || !Number.isFinite(longitude)) {
      toast("Latitude and longitude must be numbers");
      return;
    }
    const payload = { type: "location", latitude, longitude };
    if ($("location-name").value.trim()) payload.name = $("location-name").value.trim();
    if ($("location-address").value.trim()) payload.address = $("location-address").value.trim();
    $("location-form").hidden = true;
    await send(payload);
  }

  async function redeliverMessage(id) {
    try {
      await api(`${encodeURIComponent(state.current)}/redeliver/${encodeURIComponent(id)}`, { method: "POST" });
      toast("Delivered the same update again");
    } catch (error) {
      toast("Could not redeliver: " + error.message);
    }
  }

  function showLocationForm() {
    $("attach-menu").hidden = true;
    $("location-form").hidden = false;
    $("location-lat").focus();
  }

  function autosize() {
    const input = $("composer-input");
    input.style.height = "auto";
    input.style.height = Math.min(input.scrollHeight, 120) + "px";
  }

  // ------------------------------------------------------------ wiring

  $("new-citizen").addEventListener("click", () => {
    const form = $("new-citizen-form");
    form.hidden = !form.hidden;
    if (!form.hidden) $("new-citizen-name").focus();
  });
  $("new-citizen-cancel").addEventListener("click", () => ($("new-citizen-form").hidden = true));
  $("new-citizen-form").addEventListener("submit", addCitizen);
  $("composer").addEventListener("submit", sendText);
  $("composer-input").addEventListener("input", autosize);
  $("composer-input").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      $("composer").requestSubmit();
    }
  });
  $("attach").addEventListener("click", () => {
    $("attach-menu").hidden = !$("attach-menu").hidden;
    $("location-form").hidden = true;
  });
  for (const button of document.querySelectorAll("[data-pick]")) {
    button.addEventListener("click", () => {
      $("attach-menu").hidden = true;
      const pick = button.dataset.pick;
      if (pick === "location") showLocationForm();
      else $("file-" + pick).click();
    });
  }
  const picked = (kind, voice) => (event) => {
    sendFile(kind, event.target.files[0], voice);
    event.target.value = "";
  };
  $("file-image").addEventListener("change", picked("image", false));
  $("file-document").addEventListener("change", picked("document", false));
  $("file-voice").addEventListener("change", picked("audio", true));
  $("location-form").addEventListener("submit", sendLocation);
  $("location-cancel").addEventListener("click", () => ($("location-form").hidden = true));
  $("sheet-close").addEventListener("click", closeSheet);
  $("sheet").addEventListener("click", (event) => event.target === $("sheet") && closeSheet());
  document.addEventListener("keydown", (event) => event.key === "Escape" && closeSheet());
  document.addEventListener("visibilitychange", markRead);
  $("back").addEventListener("click", () => $("app").classList.remove("chatting"));

  async function start() {
    await loadInfo();
    const citizens = (await refreshCitizens()) || [];
    const wanted = decodeURIComponent(location.hash.slice(1));
    if (wanted && citizens.some((c) => c.wa_id === wanted)) openChat(wanted);
    setInterval(poll, POLL_MS);
    setInterval(refreshCitizens, CITIZENS_MS);
  }

  start();
})();
