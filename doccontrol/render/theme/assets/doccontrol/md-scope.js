/* Material's start-up helpers (partials/javascripts/base.html), loaded as a file: the pages' policy allows no inline script. */
(function () {
  var scope = document.currentScript.getAttribute("data-scope");
  window.__md_scope = new URL(scope, location);
  window.__md_hash = function (e) { return [].slice.call(e).reduce(function (h, c) { return (h << 5) - h + c.charCodeAt(0); }, 0); };
  window.__md_get = function (e, store, base) {
    store = store || localStorage; base = base || window.__md_scope;
    return JSON.parse(store.getItem(base.pathname + "." + e));
  };
  window.__md_set = function (e, value, store, base) {
    store = store || localStorage; base = base || window.__md_scope;
    try { store.setItem(base.pathname + "." + e, JSON.stringify(value)); } catch (error) { /* storage full or blocked */ }
  };
})();
