/* doccontrol: the print date of the 非受控 notice, filled in when a page is printed. */
(function () {
  function today() {
    var d = new Date(), p = function (n) { return (n < 10 ? "0" : "") + n; };
    return d.getFullYear() + "-" + p(d.getMonth() + 1) + "-" + p(d.getDate());
  }
  function fill() {
    document.querySelectorAll(".dc-print-date").forEach(function (el) { el.textContent = today(); });
  }
  fill();
  window.addEventListener("beforeprint", fill);
})();
