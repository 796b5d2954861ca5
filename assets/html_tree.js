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
 * A delta that does not fit what is shown is not drawn: the page asks the server (cw-resend)
 * to send everything whole, and keeps its current content meanwhile.
 */
(function () {
  'use strict';

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
      props.key = index;
    }
    return React.createElement(node.t, props, node.c === undefined ? undefined : draw(node.c, 0));
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
    var clientside = window.dash_clientside;
    if (clientside && clientside.set_props) clientside.set_props('cw-resend', {data: Date.now()});
  }

  function HtmlTree(props) {
    var memo = React.useRef({input: undefined, tree: null, digest: null}).current;
    var input = props.tree;
    if (input !== memo.input) {
      memo.input = input;
      if (input && typeof input === 'object' && !Array.isArray(input) && input.delta !== undefined) {
        if (input.base === memo.digest) {
          try {
            memo.tree = resolve(input.delta, memo.tree);
            memo.digest = input.digest;
          } catch (e) {
            if (e !== MISSING) throw e;
            askForEverything();
          }
        } else {
          askForEverything();
        }
      } else if (input && typeof input === 'object' && !Array.isArray(input) && input.full !== undefined) {
        memo.tree = input.full;
        memo.digest = input.digest;
      } else {
        memo.tree = input;
        memo.digest = null;
      }
    }
    return React.createElement('div', {className: props.className}, draw(memo.tree, 0));
  }

  window.citywall_components = Object.assign({}, window.citywall_components, {HtmlTree: HtmlTree});
})();
