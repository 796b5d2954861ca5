/* citywall console: the choice of a row, and keyboard shortcuts, for the operator's desk.
 *
 * j / k move the selection down / up the queue; a acknowledge, g assign, n note (focus the
 * text, Enter sends), r resolve, o reopen, p push to the wall, + / - severity, / search.
 * Keys are ignored while typing in a field or choosing in a select box (a select picks an
 * option by its first letter: "r" for RED resolved the incident), except Enter in the note
 * field, and only on the console page. A held key repeats j / k, never an action.
 *
 * An action key acts only once the detail shows the incident last chosen: pressed right after
 * j, "r" went out before the page had taken the new selection, and resolved the last one.
 *
 * A note or a broadcast pasted longer than its box takes is cut by the browser; the desk says so.
 *
 * Choosing a row, by a click or by j / k, is done here. It was a Dash callback on the rows'
 * clicks, and two rows chosen before Dash ran it (j j) were merged into one call that took
 * the first. In the same step the last incident's choices (agency, resolution code, note,
 * message) are cleared, so no key can land between the two and resolve the new incident with
 * the old one's code. j / k move from the row chosen last, not from the row the server has
 * highlighted, which lags a round trip; when that row has left the list (resolved, filtered
 * out), the row now in its place is the next one.
 */
(function () {
  "use strict";
  var BUTTONS = {a: "cw-act-acknowledge", g: "cw-act-assign", r: "cw-act-resolve", o: "cw-act-reopen",
                 p: "cw-act-push", "+": "cw-act-escalate", "-": "cw-act-deescalate"};
  var wanted = null;  // the incident the operator chose last, by a click or j / k
  var wantedAt = 0;  // and where its row was in the list then
  function rows() {
    return Array.prototype.slice.call(document.querySelectorAll(".cw-console-table tr[data-incident]"));
  }
  var CLEARED = [["cw-act-agency", {value: ""}], ["cw-act-code", {value: ""}], ["cw-act-text", {value: ""}],
                 ["cw-console-msg", {children: null}]];
  function choose(id) {
    var set = window.dash_clientside.set_props;
    CLEARED.forEach(function (c) { set(c[0], c[1]); });
    set("cw-console-selected", {data: id});
  }
  document.addEventListener("click", function (e) {
    var row = e.target && e.target.closest ? e.target.closest(".cw-console-table tr[data-incident]") : null;
    if (!row) return;
    var id = row.getAttribute("data-incident");
    wantedAt = Math.max(0, rows().indexOf(row));
    if (id !== wanted) { wanted = id; choose(id); }
  }, true);
  function settled() {
    var shown = document.querySelector("#cw-console-detail [data-incident]");
    return wanted === null || (shown !== null && shown.getAttribute("data-incident") === wanted);
  }
  function click(id) { var el = document.getElementById(id); if (el && settled()) el.click(); }
  function move(step) {
    var list = rows();
    if (!list.length) return;
    var at = list.findIndex(function (r) { return r.getAttribute("data-incident") === wanted; });
    var to = at >= 0 ? at + step : wanted === null ? 0 : step > 0 ? wantedAt : wantedAt - 1;
    var next = list[Math.min(list.length - 1, Math.max(0, to))];
    next.click();
    next.scrollIntoView({block: "nearest"});
  }
  // A paste longer than a box's room (a note's, a broadcast's) is cut by the browser
  // (maxLength) without a word: the desk says so, with the limit, where that box's answers
  // show, before the cut text is sent. What the paste would have added is known at the paste;
  // whether it was cut, only once it is in (the browser drops a trailing line break and joins
  // lines first), so a paste sets the length it brings and the input that follows compares.
  // The next input that fits takes the warning away.
  var CUT_SAID = {  // box -> where its answers show, and the word
    "cw-act-text": {at: "cw-console-msg", word: "console_note_cut"},
    "cw-broadcast-text": {at: "cw-wall-msg", word: "console_broadcast_cut"}
  };
  var pasted = null;  // {before: the box's length less the selection, length: the paste's}
  function sayCut(field) {
    var most = field.maxLength.toLocaleString(document.documentElement.lang || undefined);
    window.dash_clientside.set_props(CUT_SAID[field.id].at, {children: {namespace: "dash_html_components", type: "Div",
      props: {id: "cw-msg-cut", className: "alert alert-warning py-1", role: "alert",
              children: window.citywallWords.word(CUT_SAID[field.id].word, {max: most})}}});
  }
  function cutBox(field) {
    return field && CUT_SAID.hasOwnProperty(field.id) && field.maxLength > 0 ? field : null;
  }
  document.addEventListener("paste", function (e) {
    var field = cutBox(e.target);
    if (!field || !e.clipboardData) return;
    var text = e.clipboardData.getData("text").replace(/[\r\n]+$/, "").replace(/\r\n|\r|\n/g, " ");
    pasted = {before: field.value.length - ((field.selectionEnd || 0) - (field.selectionStart || 0)), length: text.length};
    if (text.length && pasted.before >= field.maxLength) { pasted = null; sayCut(field); }  // nothing goes in, no input follows
  }, true);
  document.addEventListener("input", function (e) {
    var field = cutBox(e.target);
    if (!field) return;
    var paste = e.inputType === "insertFromPaste" ? pasted : null;
    pasted = null;
    // a cut leaves the box full, or one short when what did not fit began with a character
    // that takes two places (an emoji), and what went in short of what was pasted
    var full = field.value.length >= field.maxLength - 1;
    if (paste && full && field.value.length - paste.before < paste.length) sayCut(field);
    else if (document.querySelector("#" + CUT_SAID[field.id].at + " #cw-msg-cut")) {
      window.dash_clientside.set_props(CUT_SAID[field.id].at, {children: null});
    }
  }, true);
  document.addEventListener("keydown", function (e) {
    if (!document.querySelector('[data-page="console"]') || e.ctrlKey || e.metaKey || e.altKey) return;
    var target = e.target;
    // Dash's dropdown is a button inside .dash-dropdown, not a select: a key on it is a choice too
    var typing = target && (/^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName) || target.isContentEditable ||
                          (target.closest && target.closest(".dash-dropdown") !== null));
    if (typing) {
      if (e.key === "Enter" && !e.repeat && !e.isComposing && target.id === "cw-act-text") { click("cw-act-note"); }
      if (e.key === "Escape") target.blur();
      return;
    }
    if (e.repeat && e.key !== "j" && e.key !== "k") return;
    if (e.key === "j") move(1);
    else if (e.key === "k") move(-1);
    else if (e.key === "n") { var t = document.getElementById("cw-act-text"); if (t) { t.focus(); e.preventDefault(); } }
    else if (e.key === "/") { var s = document.getElementById("cw-filter-text"); if (s) { s.focus(); e.preventDefault(); } }
    else if (BUTTONS[e.key]) { click(BUTTONS[e.key]); e.preventDefault(); }
  });
})();
