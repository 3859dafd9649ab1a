/* Rank widget: drag-and-drop tiers (SortableJS) + keyboard, on top of a plain HTML form.
 *
 * Every element with [data-rank-widget] (the form from _rank_widget.html) is initialised, on page
 * load and whenever htmx swaps new content in. The DOM is the state: ordered [data-rank-tier]
 * elements hold the ranked cards (best first), [data-rank-tray] the unranked ones. After every
 * move the hidden field "tiers" is set to the ranking itself, the response positions of each tier,
 * best first (`[[2], [0, 3], [1]]`; positions in no tier are unranked): what the server stores.
 * The per-card <select name="rank_<position>"> of the no-JS form are disabled, so a form posts
 * either tiers (JavaScript) or tier numbers (no JavaScript), never both. A "rank:changed" event is
 * fired on the form after every move (the autosave element listens for it through htmx).
 *
 * Keys (page-wide for the widget marked [data-rank-keys]; ignored while typing in a field):
 *   j / k or arrows: next / previous card     1-9: give the focused card that rank (1 = best);
 *   0 or u: unranked                            equal ranks are a tie; focus moves to the next
 *   Backspace: undo the last rank typed         card in letter order (A, B, C, ...)
 *   Shift+arrows (or J / K): move one step up / down
 *   e: expand / collapse a long card          Enter or s: submit     x: skip     g: guidelines
 *   ?: this help                              Esc: close help / skip
 *
 * Typed ranks: each card keeps the number typed for it (this.values, by card label); the tiers
 * shown and submitted are the dense ranks of those numbers, so typing 2, 1, 3, 4 on A-D gives
 * B, A, C, D. Without ties, typing a rank that another card holds moves that card down one (and
 * so on). A drag or a step move re-reads the numbers from the tiers on screen. On narrow screens
 * each card also carries rank buttons (1..K, "unranked") that do the same as typing.
 *
 * Order under a slow server: every key changes the local state (this.values and the DOM) at once,
 * in the order typed; the server never writes it back. Drafts are saved by one fetch at a time,
 * 500 ms after the last change, each carrying the state of the moment it is sent (changes made
 * while one is in flight go in the next); an answer only updates the version and the status line.
 * Submit waits for the draft in flight (its answer carries the version to submit against), then
 * posts the state on screen; keys typed while a submit is on its way are kept and replayed, in
 * order, on the prompt that comes next (or on this one again if the server refused it).
 */
(function () {
  "use strict";

  function $all(root, selector) { return Array.prototype.slice.call(root.querySelectorAll(selector)); }

  function RankWidget(form) {
    this.form = form;
    this.uid = form.id;
    this.allowTies = form.dataset.allowTies === "true";
    this.allowPartial = form.dataset.allowPartial === "true";
    this.board = form.querySelector(".rank-board");
    this.tiersEl = form.querySelector("[data-rank-tiers]");
    this.tray = form.querySelector("[data-rank-tray]");
    this.sortables = [];
    this.lastSent = Date.now();
    this.keys = 0;  // keys acted on since the last save was sent (the server adds them up per ranking)
    this.seq = 0;  // local changes so far
    this.autosaveEl = form.querySelector("[data-rank-autosave][data-autosave-url]");
    this.saveTimer = null;
    this.saving = null;  // the promise of the draft save in flight
    this.submitting = false;
    form.classList.add("rank-js");
    this.live = document.getElementById("rank-live") || this.makeLiveRegion();
    this.normalize();
    this.history = [];
    this.readValues();
    this.markTaps();
    this.initExpanders();
    form.__rankWidget = this;
    var self = this;
    form.addEventListener("focusin", function (e) {
      var card = e.target.closest && e.target.closest(".rank-card");
      if (card && form.contains(card)) self.lastFocused = card;
    });
    form.addEventListener("htmx:configRequest", function (e) {
      var counters = self.takeCounters();
      e.detail.parameters.elapsed_ms = counters.elapsed_ms;
      e.detail.parameters.keystrokes = counters.keystrokes;
    });
    // The form's own request (submit, skip): after the draft in flight, with the state on screen then.
    form.addEventListener("htmx:confirm", function (e) {
      if (e.target !== form) return;
      self.submitting = true;
      window.clearTimeout(self.saveTimer);
      self.saveTimer = null;
      if (!self.saving) return;
      e.preventDefault();
      self.saving.then(function () { e.detail.issueRequest(true); });
    });
    form.addEventListener("htmx:afterRequest", function (e) {
      if (e.target !== form || !document.body.contains(form)) return;
      self.submitting = false;  // answered without replacing the form (network error, refused): keys go here again
      replayKeys(self);
    });
    form.addEventListener("click", function (e) {
      var keep = e.target.closest("[data-rank-keep-mine]");
      if (keep) self.keepMine(keep);
      var tap = e.target.closest("[data-rank-tap]");
      if (tap) self.typeRank(tap.closest(".rank-card"), tap.value === "" ? null : parseInt(tap.value, 10), { stay: true });
    });
    // A session that ended answers with the login page: keep the cards, say what happened.
    form.addEventListener("htmx:beforeSwap", function (e) {
      var url = e.detail.xhr && e.detail.xhr.responseURL;
      var login = form.dataset.loginUrl;
      if (url && login && url.indexOf(login) !== -1) {
        e.detail.shouldSwap = false;
        self.showProblem("You were logged out. Log in again in another tab, then press Submit: your arrangement is still here.");
      }
    });
    form.addEventListener("htmx:responseError", function (e) {
      var status = e.detail.xhr ? e.detail.xhr.status : 0;
      self.showProblem(status === 403
        ? "Not saved (HTTP 403): your session or its security token has expired. Your last saved draft is kept: log in again and reload this page."
        : "Not saved: the server answered HTTP " + status + ". Your arrangement is still here; try again in a moment.");
    });
    form.addEventListener("htmx:sendError", function () {
      self.showProblem("The server could not be reached; your arrangement is still here. Try again in a moment.");
    });
  }

  RankWidget.prototype.makeLiveRegion = function () {
    var region = document.createElement("div");
    region.id = "rank-live";
    region.className = "sr-only";
    region.setAttribute("aria-live", "polite");
    region.setAttribute("role", "status");
    document.body.appendChild(region);
    return region;
  };

  RankWidget.prototype.showProblem = function (message) {
    var status = this.form.querySelector("[data-rank-autosave]") || this.form.querySelector(".rank-rules");
    status.innerHTML = "";
    var span = document.createElement("span");
    span.className = "conflict";
    span.setAttribute("role", "alert");
    span.textContent = message;
    status.appendChild(span);
  };

  RankWidget.prototype.announce = function (message) {
    var region = this.live;
    region.textContent = "";
    window.setTimeout(function () { region.textContent = message; }, 30);
  };

  RankWidget.prototype.tiers = function () { return $all(this.tiersEl, "[data-rank-tier]"); };
  RankWidget.prototype.cards = function () {
    // Visual reading order: unranked tray first, then the tiers best to worst.
    return $all(this.tray, ".rank-card").concat($all(this.tiersEl, ".rank-card"));
  };
  RankWidget.prototype.tierOf = function (card) {
    var tier = card.closest("[data-rank-tier]");
    return tier ? this.tiers().indexOf(tier) : -1;
  };

  RankWidget.prototype.makeTier = function () {
    var li = document.createElement("li");
    li.className = "rank-tier";
    li.setAttribute("data-rank-tier", "");
    li.innerHTML = '<div class="rank-tier-head"><span class="rank-tier-num"></span><span class="rank-tier-name"></span></div>' +
      '<div class="rank-list rank-tier-cards" data-rank-list></div>';
    return li;
  };

  RankWidget.prototype.makeZone = function (index, total) {
    var zone = document.createElement("li");
    zone.className = "rank-newtier";
    zone.setAttribute("data-rank-newtier", String(index));
    var text = total === 0 ? "Drop the best response here"
      : (index === 0 ? "Drop here: new tier above 1" : (index === total ? "Drop here: new tier at the bottom" : "Drop here: new tier"));
    zone.innerHTML = '<div class="rank-list rank-newtier-list" data-rank-list data-rank-zone><span class="rank-newtier-hint">' + text + "</span></div>";
    return zone;
  };

  /* Rebuild everything derived from the DOM: empty tiers dropped, drop zones between tiers,
   * numbers and names, the selects, the "where" badges, Sortable instances. */
  RankWidget.prototype.normalize = function () {
    var self = this;
    // Cards dropped into a new-tier zone become a tier of their own there.
    $all(this.tiersEl, "[data-rank-newtier]").forEach(function (zone) {
      var cards = $all(zone, ".rank-card");
      if (cards.length) {
        var tier = self.makeTier();
        var list = tier.querySelector("[data-rank-list]");
        cards.forEach(function (c) { list.appendChild(c); });
        self.tiersEl.insertBefore(tier, zone);
      }
      zone.remove();
    });
    this.tiers().forEach(function (tier) { if (!tier.querySelector(".rank-card")) tier.remove(); });
    if (!this.allowTies) this.splitTies();
    var tiers = this.tiers();
    tiers.forEach(function (tier, i) {
      tier.querySelector(".rank-tier-num").textContent = String(i + 1);
      tier.querySelector(".rank-tier-name").textContent = i === 0 ? "Best" : (i === tiers.length - 1 && tiers.length > 2 ? "Worst" : "");
      tier.classList.toggle("is-tie", tier.querySelectorAll(".rank-card").length > 1);
      self.tiersEl.insertBefore(self.makeZone(i, tiers.length), tier);
    });
    this.tiersEl.appendChild(this.makeZone(tiers.length, tiers.length));
    this.cards().forEach(function (card) {
      var t = self.tierOf(card);
      var select = card.querySelector("[data-rank-select]");
      if (select) { select.value = t < 0 ? "" : String(t + 1); select.disabled = true; }  // the tiers field speaks
      var where = card.querySelector("[data-rank-where]");
      if (where) where.textContent = t < 0 ? "unranked" : (t === 0 ? "tier 1 · best" : "tier " + (t + 1));
      card.setAttribute("aria-label", "Response " + card.dataset.label + ", " + (t < 0 ? "unranked" : "tier " + (t + 1)));
    });
    var field = this.form.querySelector("[data-rank-tiers-field]");
    if (field) field.value = JSON.stringify(this.tiers().map(function (tier) {
      return $all(tier, ".rank-card").map(function (c) { return Number(c.dataset.position); })
        .sort(function (a, b) { return a - b; });
    }));
    var unranked = this.tray.querySelectorAll(".rank-card").length;
    var count = this.form.querySelector("[data-rank-tray-count]");
    if (count) count.textContent = "(" + unranked + ")";
    this.form.classList.toggle("tray-empty", unranked === 0);
    this.bindSortables();
  };

  /* Without ties a tier holds one card: extra cards become tiers right below it. */
  RankWidget.prototype.splitTies = function () {
    var self = this;
    this.tiers().forEach(function (tier) {
      var cards = $all(tier, ".rank-card");
      var after = tier.nextSibling;
      cards.slice(1).forEach(function (card) {
        var t = self.makeTier();
        t.querySelector("[data-rank-list]").appendChild(card);
        self.tiersEl.insertBefore(t, after);
      });
    });
  };

  RankWidget.prototype.bindSortables = function () {
    if (typeof window.Sortable === "undefined") return;
    var self = this;
    this.sortables.forEach(function (s) { s.destroy(); });
    this.sortables = $all(this.form, "[data-rank-list]").map(function (list) {
      var isTier = list.classList.contains("rank-tier-cards");
      return window.Sortable.create(list, {
        group: {
          name: "rank-" + self.uid,
          put: function (to) {
            // No ties: an occupied tier accepts nothing; drop between tiers instead.
            return self.allowTies || !isTier || to.el.querySelectorAll(".rank-card:not(.sortable-chosen)").length === 0;
          },
        },
        draggable: ".rank-card",
        handle: ".rank-card-head",
        filter: "select, button, .rank-select",
        preventOnFilter: false,
        animation: 120,
        forceFallback: true,
        fallbackOnBody: true,
        fallbackTolerance: 3,
        ghostClass: "rank-ghost",
        chosenClass: "rank-chosen",
        onStart: function () { self.form.classList.add("is-dragging"); },
        onEnd: function (evt) {
          self.form.classList.remove("is-dragging");
          var card = evt.item;
          window.setTimeout(function () {
            self.changed(card);
            card.focus({ preventScroll: true });
          }, 0);
        },
      });
    });
  };

  RankWidget.prototype.describe = function (card) {
    var t = this.tierOf(card);
    if (t < 0) return "Response " + card.dataset.label + " unranked.";
    var mates = $all(this.tiers()[t], ".rank-card").filter(function (c) { return c !== card; })
      .map(function (c) { return c.dataset.label; });
    var where = "Response " + card.dataset.label + " in tier " + (t + 1) + (t === 0 ? " (best)" : "") + " of " + this.tiers().length;
    return where + (mates.length ? ", tied with " + mates.join(", ") + "." : ".");
  };

  RankWidget.prototype.changed = function (card, typed) {
    this.normalize();
    if (!typed) { this.readValues(); this.history = []; }
    this.markTaps();
    if (card) this.announce(this.describe(card));
    var errors = this.form.querySelector("[data-rank-errors]");
    if (errors) errors.remove();
    this.seq += 1;
    this.scheduleSave(500);
    this.form.dispatchEvent(new CustomEvent("rank:changed", { bubbles: true }));
  };

  /* ---------- drafts: one save in flight at a time, each with the state of its moment ---------- */

  RankWidget.prototype.takeCounters = function () {
    var now = Date.now();
    var counters = { elapsed_ms: String(Math.min(now - this.lastSent, 3600000)), keystrokes: String(this.keys) };
    this.lastSent = now;
    this.keys = 0;
    return counters;
  };

  RankWidget.prototype.scheduleSave = function (delay) {
    if (!this.autosaveEl || this.submitting) return;
    var self = this;
    window.clearTimeout(this.saveTimer);
    this.saveTimer = window.setTimeout(function () { self.saveTimer = null; self.saveNow(); }, delay);
  };

  RankWidget.prototype.saveNow = function () {
    // A save in flight sends again when it ends; a submit on its way carries the state itself.
    if (this.saving || this.submitting || !document.body.contains(this.form)) return;
    var self = this;
    var seq = this.seq;
    var body = new FormData(this.form);
    var counters = this.takeCounters();
    body.delete("action");
    body.set("elapsed_ms", counters.elapsed_ms);
    body.set("keystrokes", counters.keystrokes);
    var request = { method: "POST", body: body, credentials: "same-origin", headers: { "HX-Request": "true" } };
    this.saving = window.fetch(this.autosaveEl.dataset.autosaveUrl, request)
      .then(function (response) { return response.text().then(function (text) { self.saved(response, text); }); })
      .catch(function () { self.showProblem("The server could not be reached; your arrangement is still here. Try again in a moment."); })
      .then(function () {
        self.saving = null;
        if (self.seq !== seq && !self.saveTimer) self.saveNow();
      });
  };

  /* A draft's answer: the new version and the status line; the cards on screen stay as they are. */
  RankWidget.prototype.saved = function (response, text) {
    var login = this.form.dataset.loginUrl;
    if (login && response.url && response.url.indexOf(login) !== -1) {
      this.showProblem("You were logged out. Log in again in another tab, then press Submit: your arrangement is still here.");
      return;
    }
    if (!response.ok) {
      this.showProblem(response.status === 403
        ? "Not saved (HTTP 403): your session or its security token has expired. Your last saved draft is kept: log in again and reload this page."
        : "Not saved: the server answered HTTP " + response.status + ". Your arrangement is still here; try again in a moment.");
      return;
    }
    var answer = document.createElement("template");
    answer.innerHTML = text;
    var version = answer.content.querySelector("input[name=version]");
    if (version) {
      this.form.querySelector("input[name=version]").value = version.value;
      version.remove();
    }
    this.autosaveEl.innerHTML = "";
    this.autosaveEl.appendChild(answer.content);
  };

  /* Moves. dest: {tier: i} joins tier i (0-based), {newTier: i} inserts a tier before tier i,
   * {tray: true} unranks. */
  RankWidget.prototype.place = function (card, dest) {
    if (dest.tray) {
      this.tray.appendChild(card);
    } else if (dest.tier !== undefined && dest.tier < this.tiers().length) {
      this.tiers()[dest.tier].querySelector("[data-rank-list]").appendChild(card);
    } else {
      var tiers = this.tiers();
      var tier = this.makeTier();
      tier.querySelector("[data-rank-list]").appendChild(card);
      var before = dest.newTier !== undefined && dest.newTier < tiers.length ? tiers[dest.newTier] : null;
      this.tiersEl.insertBefore(tier, before);
    }
    this.changed(card);
    card.focus({ preventScroll: false });
  };

  /* Step moves: the slots without the card are [new 0, tier 0, new 1, tier 1, ..., new n];
   * tier slots only when ties are allowed. Down past the last slot unranks. */
  RankWidget.prototype.step = function (card, delta) {
    var tiers = this.tiers();
    var current = this.tierOf(card);
    var alone = current >= 0 && tiers[current].querySelectorAll(".rank-card").length === 1;
    var others = tiers.filter(function (t) { return !(alone && t.contains(card)); });
    var slots = [];
    for (var i = 0; i <= others.length; i++) {
      slots.push({ newBefore: others[i] || null });
      if (i < others.length && this.allowTies) slots.push({ join: others[i] });
    }
    var at;
    if (current < 0) at = slots.length;
    else if (alone) {
      var below = tiers[current + 1] || null;
      at = slots.findIndex(function (s) { return s.newBefore === below && s.join === undefined; });
    } else at = slots.findIndex(function (s) { return s.join === tiers[current]; });
    var goal = at + delta;
    if (goal < 0) goal = 0;
    if (goal >= slots.length) { if (current >= 0) this.place(card, { tray: true }); return; }
    if (goal === at) return;
    var slot = slots[goal];
    if (slot.join) this.place(card, { tier: this.tiers().indexOf(slot.join) });
    else this.place(card, { newTier: slot.newBefore ? this.tiers().indexOf(slot.newBefore) : this.tiers().length });
  };

  RankWidget.prototype.focusCard = function (delta) {
    var cards = this.cards();
    if (!cards.length) return;
    var current = cards.indexOf(document.activeElement.closest ? document.activeElement.closest(".rank-card") : null);
    var next = current < 0 ? (delta > 0 ? 0 : cards.length - 1) : Math.max(0, Math.min(cards.length - 1, current + delta));
    cards[next].focus();
    cards[next].scrollIntoView({ block: "nearest" });
    this.announce(this.describe(cards[next]));
  };

  /* Where a digit goes when no card has focus (focus left for the page body): the card after the last one typed. */
  RankWidget.prototype.cursorCard = function () {
    var card = this.cursor && this.form.querySelector('.rank-card[data-label="' + this.cursor + '"]');
    return card || this.byLetter()[0] || null;
  };

  RankWidget.prototype.focusedCard = function () {
    var el = document.activeElement;
    var card = el && el.closest ? el.closest(".rank-card") : null;
    return card && this.form.contains(card) ? card : null;
  };

  RankWidget.prototype.toggleExpand = function (card) {
    var button = card.querySelector("[data-rank-expand]");
    if (!button || button.hidden) return;
    button.click();
  };

  RankWidget.prototype.initExpanders = function () {
    $all(this.form, ".rank-card").forEach(function (card) {
      var body = card.querySelector(".rank-card-body");
      var button = card.querySelector("[data-rank-expand]");
      if (!body || !button || button.__bound) return;
      button.__bound = true;
      if (body.scrollHeight > body.clientHeight + 8) {
        button.hidden = false;
        card.classList.add("is-long");
      }
      button.addEventListener("click", function () {
        var open = card.classList.toggle("is-expanded");
        button.textContent = open ? "Show less" : "Show all";
        button.setAttribute("aria-expanded", open ? "true" : "false");
      });
    });
  };

  RankWidget.prototype.submit = function () {
    var button = this.form.querySelector("[data-rank-submit]");
    if (this.form.requestSubmit) this.form.requestSubmit(button);
    else button.click();
  };

  /* After a version conflict: take the stored version as the base and save this arrangement. */
  RankWidget.prototype.keepMine = function (button) {
    var version = this.form.querySelector("input[name=version]");
    version.value = button.getAttribute("data-version");
    var conflict = button.closest("[data-rank-conflict]");
    if (conflict) conflict.remove();
    this.seq += 1;
    this.scheduleSave(0);
    this.announce("Keeping your arrangement; saving it over the other version.");
  };

  /* ---------- typed ranks ---------- */

  RankWidget.prototype.byLetter = function () {
    return this.cards().sort(function (a, b) {
      return a.dataset.label.length - b.dataset.label.length || (a.dataset.label < b.dataset.label ? -1 : 1);
    });
  };

  /* The numbers behind what is on screen: tier i holds rank i + 1, the tray holds null. */
  RankWidget.prototype.readValues = function () {
    var self = this;
    this.values = {};
    this.cards().forEach(function (card) {
      var t = self.tierOf(card);
      self.values[card.dataset.label] = t < 0 ? null : t + 1;
    });
  };

  RankWidget.prototype.holderOf = function (value, except) {
    var labels = Object.keys(this.values);
    for (var i = 0; i < labels.length; i++) {
      if (except.indexOf(labels[i]) < 0 && this.values[labels[i]] === value) return labels[i];
    }
    return null;
  };

  /* Without ties a taken rank pushes its holder down one, which may push the next, and so on. */
  RankWidget.prototype.pushDown = function (label, value) {
    var moved = [label];
    var holder = this.holderOf(value, moved);
    while (holder !== null) {
      value += 1;
      var next = this.holderOf(value, moved.concat([holder]));
      this.values[holder] = value;
      moved.push(holder);
      holder = next;
    }
  };

  /* Lay the cards out as the dense ranks of this.values (cards inside a tier in letter order). */
  RankWidget.prototype.applyValues = function () {
    var self = this;
    var distinct = [];
    Object.keys(this.values).forEach(function (label) {
      var v = self.values[label];
      if (v !== null && distinct.indexOf(v) < 0) distinct.push(v);
    });
    distinct.sort(function (a, b) { return a - b; });
    var cards = this.byLetter();  // before the old tiers (and the cards in them) leave the page
    var lists = distinct.map(function () { return self.makeTier(); });
    $all(this.tiersEl, "[data-rank-tier], [data-rank-newtier]").forEach(function (el) { el.remove(); });
    lists.forEach(function (tier) { self.tiersEl.appendChild(tier); });
    cards.forEach(function (card) {
      var v = self.values[card.dataset.label];
      if (v === null || v === undefined) { if (!self.tray.contains(card)) self.tray.appendChild(card); }
      else lists[distinct.indexOf(v)].querySelector("[data-rank-list]").appendChild(card);
    });
  };

  /* Give `card` rank `value` (1 = best; null = unranked), as typed or tapped. */
  RankWidget.prototype.typeRank = function (card, value, options) {
    if (!card) return;
    var label = card.dataset.label;
    this.history.push({ values: Object.assign({}, this.values), label: label });
    this.values[label] = value;
    if (value !== null && !this.allowTies) this.pushDown(label, value);
    this.applyValues();
    this.changed(null, true);
    this.announce(value === null ? this.describe(card) : "Rank " + value + " typed. " + this.describe(card));
    if (options && options.stay) return;
    var letters = this.byLetter();
    var next = letters[letters.indexOf(card) + 1];
    this.cursor = (next || card).dataset.label;
    if (next) { next.focus(); next.scrollIntoView({ block: "nearest" }); }
    else card.focus({ preventScroll: true });
  };

  RankWidget.prototype.undo = function () {
    var last = this.history.pop();
    if (!last) { this.announce("Nothing to undo."); return; }
    this.values = last.values;
    this.applyValues();
    this.changed(null, true);
    var card = this.form.querySelector('.rank-card[data-label="' + last.label + '"]');
    if (card) { this.cursor = last.label; card.focus(); this.announce("Undone. " + this.describe(card)); }
  };

  /* Rank buttons (narrow screens): the one matching the card's rank is pressed. */
  RankWidget.prototype.markTaps = function () {
    var self = this;
    this.cards().forEach(function (card) {
      var v = self.values[card.dataset.label];
      $all(card, "[data-rank-tap]").forEach(function (button) {
        var pressed = button.value === "" ? v === null : v === parseInt(button.value, 10);
        button.setAttribute("aria-pressed", pressed ? "true" : "false");
      });
    });
  };

  /* ---------- page-wide keys ---------- */

  var bufferedKeys = [];  // typed while a submit was on its way: for the widget that comes next
  var RANK_KEYS = /^([0-9ujkJKsxe]|Enter|Backspace|ArrowUp|ArrowDown)$/;

  function activeWidget() {
    var form = document.querySelector("[data-rank-widget][data-rank-keys]");
    if (form && !form.__rankWidget) initAll(form);  // swapped in, htmx:load not fired yet: keys go to it already
    return form && form.__rankWidget;
  }

  /* Act on one key; false when it is not one of the widget's. */
  function runKey(widget, key, shift, card, onControl, atBody) {
    var help = document.getElementById("rank-help");
    if (key === "?") { if (help) help.__returnFocus = card || document.activeElement; toggleHelp(); }
    else if (key === "j" || key === "ArrowDown" && !shift && !onControl) widget.focusCard(1);
    else if (key === "k" || key === "ArrowUp" && !shift && !onControl) widget.focusCard(-1);
    else if (card && (key === "J" || key === "ArrowDown" && shift)) widget.step(card, 1);
    else if (card && (key === "K" || key === "ArrowUp" && shift)) widget.step(card, -1);
    else if (card && /^[1-9]$/.test(key)) widget.typeRank(card, parseInt(key, 10));
    else if (card && (key === "0" || key === "u")) widget.typeRank(card, null);
    else if (key === "Backspace") widget.undo();
    else if (card && key === "e") widget.toggleExpand(card);
    else if (key === "s" || key === "Enter" && !onControl && (card || atBody)) widget.submit();
    else if (key === "x") openSkip(widget);
    else if (key === "g") toggleGuidelines();
    else return false;
    return true;
  }

  function replayKeys(widget) {
    while (bufferedKeys.length && !widget.submitting && widget.form.hasAttribute("data-rank-keys")) {
      var typed = bufferedKeys.shift();
      widget.keys += 1;
      if (!runKey(widget, typed.key, typed.shift, widget.focusedCard() || widget.cursorCard(), false, true)) widget.keys -= 1;
    }
  }

  function typing(target) {
    return target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
  }

  function toggleHelp(force) {
    var help = document.getElementById("rank-help");
    if (!help) return;
    var open = force === undefined ? help.hidden : force;
    help.hidden = !open;
    if (open) help.querySelector("[data-rank-help-close]").focus();
    else if (help.__returnFocus) help.__returnFocus.focus();
  }

  function openSkip(widget) {
    var skip = document.querySelector("[data-rank-skip]");
    if (!skip) return;
    skip.open = true;
    var first = skip.querySelector("input, textarea, select");
    if (first) first.focus();
    if (widget) widget.announce("Skip this prompt: choose a reason, then press Skip.");
  }

  function toggleGuidelines() {
    var g = document.querySelector("[data-rank-guidelines]");
    if (g) { g.open = !g.open; if (g.open) g.querySelector("summary").focus(); }
  }

  document.addEventListener("keydown", function (e) {
    var help = document.getElementById("rank-help");
    if (e.key === "Escape") {
      if (help && !help.hidden) { toggleHelp(false); e.preventDefault(); return; }
      var skip = document.querySelector("[data-rank-skip][open]");
      if (skip) { skip.open = false; e.preventDefault(); var w0 = activeWidget(); if (w0 && w0.lastFocused) w0.lastFocused.focus(); return; }
    }
    if (e.ctrlKey || e.metaKey || e.altKey || typing(e.target)) return;
    var widget = activeWidget();
    if (!widget) return;
    if (help && !help.hidden && e.key === "Tab") {  // keep focus inside the open help dialog
      e.preventDefault();
      help.querySelector("[data-rank-help-close]").focus();
      return;
    }
    if (help && !help.hidden && e.key !== "?") return;
    if (widget.submitting) {
      if (RANK_KEYS.test(e.key)) { bufferedKeys.push({ key: e.key, shift: e.shiftKey }); e.preventDefault(); }
      return;
    }
    var atBody = !e.target || e.target === document.body;
    var card = widget.focusedCard() || (atBody ? widget.cursorCard() : null);
    var onControl = e.target.closest && e.target.closest("button, a, summary");
    widget.keys += 1;  // before acting: Enter's own press goes with the submit it starts
    if (runKey(widget, e.key, e.shiftKey, card, onControl, atBody)) e.preventDefault();
    else widget.keys -= 1;
  });

  document.addEventListener("click", function (e) {
    if (e.target.closest("[data-rank-help-close]")) toggleHelp(false);
    if (e.target.closest("[data-rank-help-open]")) toggleHelp(true);
  });

  function initAll(scope) {
    var root = scope && scope.querySelectorAll ? scope : document;
    var forms = root.matches && root.matches("[data-rank-widget]") ? [root] : $all(root, "[data-rank-widget]");
    forms.forEach(function (form) {
      if (form.__rankWidget) return;
      var widget = new RankWidget(form);
      if (form.hasAttribute("data-rank-autofocus")) {
        var first = form.querySelector(".rank-card");
        if (first) first.focus({ preventScroll: true });
        var title = document.getElementById("prompt-title");
        var errors = form.querySelector("[data-rank-errors]");
        widget.announce((errors ? "Not submitted: " + errors.textContent.replace(/\s+/g, " ").trim() + " "
          : (title ? title.textContent + " loaded. " : "")) +
          form.querySelectorAll(".rank-card").length + " responses. Press ? for keys.");
      }
      if (form.hasAttribute("data-rank-keys")) replayKeys(widget);
    });
  }

  window.RankWidget = RankWidget;
  document.addEventListener("htmx:load", function (e) { initAll(e.detail.elt); });
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", function () { initAll(document); });
  else initAll(document);
})();
