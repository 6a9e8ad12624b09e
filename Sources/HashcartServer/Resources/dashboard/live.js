// Live updates for an offer's page from server-sent events: the funnel's numbers (set as text)
// and the chart (an SVG the server drew, parsed as SVG and put in place of the old one; never
// written as HTML). The page works without this script; it only refreshes while a sale runs.
(function () {
  var box = document.getElementById("live");
  if (!box || !window.EventSource) return;
  var source = new EventSource(box.getAttribute("data-source"));
  source.addEventListener("funnel", function (event) {
    var values;
    try { values = JSON.parse(event.data); } catch (e) { return; }
    Object.keys(values).forEach(function (metric) {
      document.querySelectorAll('[data-metric="' + metric.replace(/[^a-z_.]/g, "") + '"]').forEach(function (cell) {
        cell.textContent = String(values[metric]);
      });
    });
  });
  source.addEventListener("chart", function (event) {
    var holder = document.getElementById("chart");
    var data;
    try { data = JSON.parse(event.data); } catch (e) { return; }
    if (!holder || typeof data.svg !== "string" || !window.DOMParser) return;
    var parsed = new DOMParser().parseFromString(data.svg, "image/svg+xml");
    var svg = parsed.documentElement;
    if (!svg || svg.namespaceURI !== "http://www.w3.org/2000/svg" || parsed.getElementsByTagName("parsererror").length) return;
    holder.replaceChildren(document.importNode(svg, true));
  });
})();
