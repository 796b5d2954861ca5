/* Draws the plain-data trees made by layouts/tree.py (`to_tree`) as one Dash component.
 *
 * A node is text, a list of nodes, or {t: tag, p: props, c: children}. The component is a
 * React element only as far as its own box: what is inside is written straight into the DOM
 * here (`patch`), without React. React's render of a part, even of one new row, was most of
 * the page's time between a pushed frame and its text. Elements with a `key` prop keep their
 * DOM node between updates (as React matched them, by key, else by place), so a new row at
 * the top of a list adds one node and leaves the others, and whatever citywall.js wrote into
 * them (a row's age), alone.
 *
 * The `tree` prop arrives in one of three forms:
 *   {digest, full: tree}               the whole tree;
 *   {base, digest, delta: tree}        the tree again, but every keyed element the page
 *                                      already shows, unchanged, is only {k: key}
 *                                      (layouts.tree.keyed_delta); it applies to the tree
 *                                      whose digest is `base`;
 *   a bare tree                        (the first render).
 * It comes as a prop (the first render, the HTTP poll) or from the push (assets/push.js,
 * through `citywall_trees.deliver`, without a round through Dash's store), and is drawn at
 * once. A delta that does not fit what is shown is not drawn: the page asks the push to send
 * everything whole, and keeps its current content meanwhile.
 */
(function () {
  'use strict';

  // --- drawing ---------------------------------------------------------------------------
  // Each DOM node drawn here remembers the tree node it shows and the key it was matched by.
  // A delta hands back the very node objects the page already shows for its unchanged rows
  // (`resolve`): such a row costs one comparison.
  var SHOWN = '__cwShown';
  var KEY = '__cwKey';
  var ATTRIBUTE = {className: 'class', htmlFor: 'for', tabIndex: 'tabindex'};
  var UNITLESS = /^(opacity|zIndex|flex|flexGrow|flexShrink|fontWeight|lineHeight|order|zoom)$/;
  var NONE = {};

  // Text is a string or a number (or whatever else is not an object), never null or undefined.
  function isText(node) {
    return node !== undefined && typeof node !== 'object';
  }

  // A list's nodes, nested lists flattened and empty ones left out.
  function flat(node, out) {
    if (node === null || node === undefined) return out;
    if (Array.isArray(node)) node.forEach(function (child) { flat(child, out); });
    else out.push(node);
    return out;
  }

  function matchKey(node, index) {
    if (isText(node)) return '\u0000#' + index;
    var key = node.p && node.p.key;
    return key !== undefined && key !== null ? 'k' + key : '\u0000' + node.t + index;
  }

  function sameKind(dom, node) {
    return isText(node) ? dom.nodeType === 3 : dom.nodeType === 1 && dom[SHOWN].t === node.t;
  }

  function setStyle(el, before, after) {
    var name;
    for (name in before) {
      if (!(name in after)) {
        if (name.charAt(0) === '-') el.style.removeProperty(name);
        else el.style[name] = '';
      }
    }
    for (name in after) {
      var value = after[name];
      if (value === before[name]) continue;
      if (typeof value === 'number' && value !== 0 && !UNITLESS.test(name)) value = value + 'px';
      if (value === null || value === undefined) value = '';
      if (name.charAt(0) === '-') el.style.setProperty(name, String(value));
      else el.style[name] = value;
    }
  }

  function setProps(el, before, after) {
    var name;
    for (name in before) {
      if (!(name in after) && name !== 'key') {
        if (name === 'style') setStyle(el, before.style || NONE, NONE);
        else el.removeAttribute(ATTRIBUTE[name] || name);
      }
    }
    for (name in after) {
      var value = after[name];
      if (name === 'key' || value === before[name]) continue;
      if (name === 'style') setStyle(el, before.style || NONE, value || NONE);
      else if (value === null || value === undefined || value === false) el.removeAttribute(ATTRIBUTE[name] || name);
      else el.setAttribute(ATTRIBUTE[name] || name, value === true ? '' : String(value));
    }
  }

  // An element's children: one text is the element's text (as React wrote it), so text that
  // citywall.js wrote over it is replaced only when the tree's text changes.
  function setChildren(el, before, after) {
    if (isText(after)) {
      if (after !== before) el.textContent = String(after);
    } else {
      if (isText(before)) el.textContent = '';
      patch(el, flat(after, []));
    }
  }

  function create(node) {
    if (isText(node)) {
      var text = document.createTextNode(String(node));
      text[SHOWN] = node;
      return text;
    }
    var el = document.createElement(node.t);
    el[SHOWN] = {t: node.t};
    return update(el, node);
  }

  function update(dom, node) {
    var shown = dom[SHOWN];
    if (shown === node) return dom;  // the very node drawn before
    if (isText(node)) {
      dom.data = String(node);
    } else {
      setProps(dom, shown.p || NONE, node.p || NONE);
      setChildren(dom, shown.c, node.c);
    }
    dom[SHOWN] = node;
    return dom;
  }

  // `parent`'s children made to show `nodes`, matching what is there by key (else by place
  // and tag); a child this code did not draw is left where it is.
  function patch(parent, nodes) {
    var old = {};
    var twice = [];  // a key given to two siblings: the second node goes, never to be matched
    for (var child = parent.firstChild; child; child = child.nextSibling) {
      if (child[KEY] === undefined) continue;
      if (child[KEY] in old) twice.push(child);
      else old[child[KEY]] = child;
    }
    twice.forEach(function (dom) { parent.removeChild(dom); });
    var wanted = nodes.map(function (node, index) {
      var key = matchKey(node, index);
      var dom = old[key];
      if (dom !== undefined && sameKind(dom, node)) {
        delete old[key];
        dom = update(dom, node);
      } else {
        dom = create(node);
      }
      dom[KEY] = key;
      return dom;
    });
    Object.keys(old).forEach(function (key) { parent.removeChild(old[key]); });
    var at = parent.firstChild;
    wanted.forEach(function (dom) {
      if (dom === at) at = at.nextSibling;
      else parent.insertBefore(dom, at);
    });
  }

  // A part's box made to show its tree, if it shows another.
  function paint(state) {
    var box = state.box;
    if (box && box[SHOWN] !== state.tree) {
      patch(box, flat(state.tree, []));
      box[SHOWN] = state.tree;
    }
  }

  var MISSING = {};

  // The full tree from a delta and the tree shown: keys resolve among the same list's children.
  function resolve(node, shown) {
    if (Array.isArray(node)) {
      var siblings = Array.isArray(shown) ? shown : [];
      var byKey = {};
      siblings.forEach(function (child) {
        if (child && child.p && child.p.key !== undefined) byKey[child.p.key] = child;
      });
      return node.map(function (child, i) {
        if (child && typeof child === 'object' && !Array.isArray(child) && child.t === undefined && child.k !== undefined) {
          if (!(child.k in byKey)) throw MISSING;
          return byKey[child.k];
        }
        return resolve(child, siblings[i]);
      });
    }
    if (node && typeof node === 'object' && node.c !== undefined) {
      var same = shown && typeof shown === 'object' && shown.t === node.t;
      return Object.assign({}, node, {c: resolve(node.c, same ? shown.c : undefined)});
    }
    return node;
  }

  function askForEverything() {
    if (window.citywall_push) window.citywall_push.resend();
  }

  // What each part shows, by its id: the props (first render, the poll) and the push
  // (assets/push.js) both write here, whichever comes, and the part's box is drawn again.
  var states = {};

  function keyOf(role, instance) {
    return role + '\u0000' + instance;
  }

  function stateOf(role, instance) {
    var key = keyOf(role, instance);
    return states[key] || (states[key] = {tree: null, digest: null, box: null, input: undefined});
  }

  function take(state, input) {
    var wrapped = input && typeof input === 'object' && !Array.isArray(input);  // not a bare tree
    if (wrapped && input.delta !== undefined) {
      if (input.base !== state.digest) return askForEverything();
      try {
        state.tree = resolve(input.delta, state.tree);
        state.digest = input.digest;
      } catch (e) {
        if (e !== MISSING) throw e;
        askForEverything();
      }
    } else if (wrapped && input.full !== undefined) {
      state.tree = input.full;
      state.digest = input.digest;
    } else {
      state.tree = input;
      state.digest = null;
    }
  }

  function partId(id) {
    if (typeof id === 'string' && id.charAt(0) === '{') {
      try { id = JSON.parse(id); } catch (e) { /* a plain string id */ }
    }
    return id && typeof id === 'object' ? id : {role: String(id), instance: ''};
  }

  function HtmlTree(props) {
    var id = partId(props.id);
    var state = stateOf(id.role, id.instance);
    var box = React.useRef(null);
    // The prop last taken is kept with the part's state, not in a ref: React may run a first
    // render again from scratch, and a new ref would take the layout's first content again,
    // over a newer tree the push had already delivered, which the server would then never
    // send again.
    if (props.tree !== state.input) {
      state.input = props.tree;
      if (props.tree !== undefined) take(state, props.tree);
    }
    React.useLayoutEffect(function () {
      state.box = box.current;
      paint(state);  // what came by prop, or was pushed before the box existed
      return function () { if (state.box === box.current) state.box = null; };
    });
    return React.createElement('div', {className: props.className, ref: box});
  }

  /* For the push: a part's update, drawn at once if its box is on the page, else when it is. */
  window.citywall_trees = {
    /* The digest of what a part draws (null for the layout's own first content). */
    digestOf: function (role, instance) {
      var state = states[keyOf(role, instance)];
      return state ? state.digest : null;
    },
    deliver: function (role, instance, input) {
      var state = stateOf(role, instance);
      take(state, input);
      paint(state);
    }
  };

  window.citywall_components = Object.assign({}, window.citywall_components, {HtmlTree: HtmlTree});
})();
