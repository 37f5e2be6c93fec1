/* Draw every chart of the page from its inert JSON spec, and submit picker forms when a value changes. */
(function () {
  "use strict";
  function draw() {
    var specs = document.querySelectorAll("script.chart-spec");
    for (var i = 0; i < specs.length; i++) {
      var el = specs[i];
      var div = document.getElementById(el.getAttribute("data-target"));
      if (!div || typeof Plotly === "undefined") { continue; }
      var spec = JSON.parse(el.textContent);
      var layout = spec.layout || {};
      layout.autosize = true;
      Plotly.newPlot(div, spec.data || [], layout, {displayModeBar: false, responsive: true})
        .then(function (gd) { gd.setAttribute("data-rendered", "1"); });
    }
  }
  function pickers() {
    var fields = document.querySelectorAll("form.pickers select, form.pickers input[type=date], " +
                                           "form.pickers input[type=checkbox]");
    for (var i = 0; i < fields.length; i++) {
      fields[i].addEventListener("change", function (ev) {
        var reset = ev.target.getAttribute("data-reset");  /* e.g. a new benchmark starts from its own bar */
        if (reset && ev.target.form.elements[reset]) { ev.target.form.elements[reset].value = ""; }
        ev.target.form.submit();
      });
    }
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { draw(); pickers(); });
  } else { draw(); pickers(); }
})();
