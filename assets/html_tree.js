/* Draws the plain-data trees made by layouts/tree.py (`to_tree`) as one Dash component.
 *
 * A node is text, a list of nodes, or {t: tag, p: props, c: children}. Elements with a
 * `key` prop keep their DOM node between updates (React reconciles by key), so a new row
 * at the top of a list adds one node instead of redrawing the list.
 *
 * The `tree` prop arrives in one of three forms:
 *   {digest, full: tree}               the whole tree;
 *   {base, digest, delta: tree}        the tree again, but every keyed element the page
 *                                      already shows, unchanged, is only {k: key}
 *                                      (layouts.tree.keyed_delta); it applies to the tree
 *                                      whose digest is `base`;
 *   a bare tree                        (the first render).
 * It comes as a prop (the first render, the HTTP poll) or from the push (assets/push.js,
 * through `citywall_trees.deliver`, without a round through Dash's store). A delta that does
 * not fit what is shown is not drawn: the page asks the push to send everything whole, and
 * keeps its current content meanwhile.
 */
(function () {
  'use strict';

  // The element drawn for each tree node. A delta hands back the very node objects the page
  // already shows for its unchanged rows (`resolve`), and React skips an element it is given
  // again: so a new row at the top of a queue renders one row, not fourteen.
  var drawnFor = new WeakMap();

  function draw(node, index) {
    if (node === null || node === undefined) {
      return null;
    }
    if (Array.isArray(node)) {
      return node.map(draw);
    }
    if (typeof node !== 'object') {
      return String(node);
    }
    var props = Object.assign({}, node.p);
    if (props.key === undefined) {
      props.key = index;  // an element without a key of its own is keyed by its place
    }
    var hit = drawnFor.get(node);
    if (hit && hit.props.key === props.key) return hit.element;
    var element = React.createElement(node.t, props, node.c === undefined ? undefined : draw(node.c, 0));
    drawnFor.set(node, {props: props, element: element});
    return element;
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
  // (assets/push.js) both write here, whichever comes, and the part's element redraws.
  var states = {};

  function keyOf(role, instance) {
    return role + '\u0000' + instance;
  }

  function stateOf(role, instance) {
    var key = keyOf(role, instance);
    return states[key] || (states[key] = {tree: null, digest: null, serial: 0, redraw: null, input: undefined});
  }

  function take(state, input) {
    state.serial += 1;
    if (input && typeof input === 'object' && !Array.isArray(input) && input.delta !== undefined) {
      if (input.base !== state.digest) return askForEverything();
      try {
        state.tree = resolve(input.delta, state.tree);
        state.digest = input.digest;
      } catch (e) {
        if (e !== MISSING) throw e;
        askForEverything();
      }
    } else if (input && typeof input === 'object' && !Array.isArray(input) && input.full !== undefined) {
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
    var redraw = React.useReducer(function (n) { return n + 1; }, 0)[1];
    // The prop last taken is kept with the part's state, not in a ref: React may run a first
    // render again from scratch (a push drawn with flushSync interrupts the page's own first
    // render), and a new ref would take the layout's first content again, over a newer tree
    // the push had already delivered, which the server would then never send again.
    if (props.tree !== state.input) {
      state.input = props.tree;
      if (props.tree !== undefined) take(state, props.tree);
    }
    var drawn = state.serial;
    React.useEffect(function () {
      state.redraw = redraw;
      if (state.serial !== drawn) redraw();  // pushed between this render and now
      return function () { if (state.redraw === redraw) state.redraw = null; };
    });
    return React.createElement('div', {className: props.className}, draw(state.tree, 0));
  }

  /* For the push: a part's update, applied whether or not its element is drawn yet (one not
   * drawn yet takes it when it is). The push wraps it in ReactDOM.flushSync to draw at once. */
  window.citywall_trees = {
    /* The digest of what a part draws (null for the layout's own first content). */
    digestOf: function (role, instance) {
      var state = states[keyOf(role, instance)];
      return state ? state.digest : null;
    },
    deliver: function (role, instance, input) {
      var state = stateOf(role, instance);
      take(state, input);
      if (state.redraw) state.redraw();
    }
  };

  window.citywall_components = Object.assign({}, window.citywall_components, {HtmlTree: HtmlTree});
})();
