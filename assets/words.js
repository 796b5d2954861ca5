/* citywall words: the catalog of the configured language, handed over by the page.
 *
 * The server puts the language's whole gettext catalog (layouts/locale/<language>/LC_MESSAGES/
 * citywall.po, the same one Python reads) into the hidden #cw-words element as JSON, so no
 * script holds words of its own. word(key, fill) returns the word with its {placeholders}
 * filled; a key the catalog lacks shows as the key, as on the server, and is listed in
 * window.citywallWords.missing so a browser test can fail on it.
 */
(function () {
  "use strict";
  var words = null;
  var missing = [];

  function catalog() {
    if (words) return words;
    var el = document.getElementById("cw-words");
    if (!el) return {};   // the layout is not drawn yet: read it on the next call
    try { words = JSON.parse(el.getAttribute("data-words") || "{}"); } catch (e) { words = {}; }
    return words;
  }

  function word(key, fill) {
    var all = catalog();
    if (!Object.prototype.hasOwnProperty.call(all, key)) {
      if (missing.indexOf(key) < 0) missing.push(key);
      return key;
    }
    var text = all[key];
    if (!fill) return text;
    return text.replace(/\{(\w+)\}/g, function (whole, name) {
      return Object.prototype.hasOwnProperty.call(fill, name) ? String(fill[name]) : whole;
    });
  }

  window.citywallWords = {word: word, missing: missing};
})();
