/* Draws the plain-data trees made by layouts/tree.py (`to_tree`) as one Dash component.
 *
 * A node is text, a list of nodes, or {t: tag, p: props, c: children}. Elements with a
 * `key` prop keep their DOM node between updates (React reconciles by key), so a new row
 * at the top of a list adds one node instead of redrawing the list.
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

  function HtmlTree(props) {
    return React.createElement('div', {className: props.className}, draw(props.tree, 0));
  }

  window.citywall_components = Object.assign({}, window.citywall_components, {HtmlTree: HtmlTree});
})();
